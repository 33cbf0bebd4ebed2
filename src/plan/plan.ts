import type { DataFormat, Origin, OutputTarget, Problem, PromptRequest } from '../sources/types.js'
import { OutputRules, SourceFiles, foldSegment, sourceError, type OutputCheck } from '../paths/output.js'
import { customIds, withDigest } from './custom-ids.js'
import { columnsOf, RequestTable, StringList } from './table.js'
import { BODY_ENVELOPE_BYTES, itemBytes, SpoolWriter } from './spool.js'
import { canonicalJson, fingerprint } from './fingerprint.js'
import { schemaOf, unsupportedFeatures, compileSchema, type JsonObject } from '../sources/schema.js'
import { CACHE_MARK_BYTES, cacheKeys, type CacheKeys, type CacheMode, type Caching } from './cache.js'

/** A request once planned: its params live in the spool, everything else needed later is here. */
export interface PlannedRequest {
  customId: string
  output?: OutputTarget
  origin: Origin
  model: string
  maxTokens: number
  /** `params.thinking.type`, which not every model accepts. */
  thinking?: string
  /** Where its params JSON lies in the spool. */
  offset: number
  bytes: number
  /** What produced its output (plan/fingerprint.ts), for the lock file; unset without an output. */
  fingerprint?: string
  /** Index into `Plan.schemas` of the schema its reply must fit (its params' output_config.format). */
  schema?: number
  /** Its cacheable prefixes (plan/cache.ts), as hashes; unset when it has none. Marked only with `cache: auto`. */
  cache?: CacheKeys
}

/** A data file rewritten with an `output` field per row once its results are in. */
export interface DataOutput {
  path: string
  source: string
  format: DataFormat
  rows: number
  /**
   * Rows not sent this time because their output is already generated (the lock file): [row index,
   * fingerprint]. Their previous output is copied from the generated file when it is rebuilt.
   */
  kept?: Array<[row: number, fingerprint: string]>
  /** With a schema: the result columns (its top-level properties), in schema order, instead of `output`. */
  columns?: string[]
}

/** Requests `[start, end)` go into one batch. */
export interface Chunk {
  start: number
  end: number
  bytes: number
}

export interface Plan {
  /** The submission's tag, which starts every custom_id (custom-ids.ts). */
  tag: string
  requests: PlannedRequest[]
  chunks: Chunk[]
  spoolPath: string
  dataOutputs: DataOutput[]
  /**
   * Workspace-relative paths of every file the requests were made from (prompt files, data,
   * template, requests, system prompt file): no output may overwrite one, now or at collect.
   */
  sources?: string[]
  /**
   * What prune removed when this submission was planned: lock keys and the output files deleted.
   * collect removes them from its checkout too, so that the pull request carries the removal.
   */
  pruned?: { keys: string[]; files: string[] }
  /** The distinct JSON Schemas replies must fit (structured output), for validating them at collect. */
  schemas?: JsonObject[]
  /** Prompt caching (plan/cache.ts): the `cache` input, and prefix tokens counted before spending. */
  caching?: Caching
}

export interface Limits {
  maxRequests: number
  maxBytes: number
}

/**
 * The Message Batches API's limits: 100,000 requests or 256 MB a batch (batch-api.md §5). The size
 * is taken as decimal megabytes, the stricter reading, so a batch near the edge is never refused.
 */
export const API_LIMITS: Limits = { maxRequests: 100_000, maxBytes: 256_000_000 }

/**
 * Plans the run: spools every request's params, gives each a custom_id, checks where its output goes,
 * and splits the work into batches within the API's limits. Problems are reported, not thrown.
 */
export async function buildPlan(
  sources: AsyncIterable<PromptRequest> & { readonly files?: ReadonlySet<string>; real?(file: string): string | undefined },
  options: { workspace: string; spoolPath: string; tag: string; limits?: Limits; problem: (p: Problem) => void; cache?: CacheMode }
): Promise<Plan> {
  const { workspace, problem } = options
  const limits = options.limits ?? API_LIMITS
  const spool = new SpoolWriter(options.spoolPath)
  const table = new RequestTable()
  // Each request's key for its custom_id, a flag first: \u0001 for the user's own (fixed) id, \u0000 for one to derive.
  const keys = new StringList()
  const outputs = new Outputs(workspace, table, problem)
  const schemas = new Schemas(problem)

  try {
    for await (const request of sources) {
      const at = await spool.append(request.params, request.customId ? `fixed:${request.customId}` : request.key)
      const output = request.output && (await outputs.check(request.output, request.origin, table.length))
      table.push({
        customId: '',
        output,
        origin: request.origin,
        model: request.params.model,
        maxTokens: request.params.max_tokens,
        thinking: thinkingType(request.params.thinking),
        ...at,
        ...(output ? { fingerprint: fingerprint(request.params, output.path) } : {}),
        ...schemas.indexOf(request),
        // Prompt caching (plan/cache.ts): hashes of the shared-prefix candidates; ready-made requests are sent as they
        // are. Kept whatever the `cache` input, so that splitting (which counts their blocks' bytes) does not depend on it.
        ...(!request.customId ? withCache(cacheKeys(request.params, request.cacheLead)) : {})
      })
      keys.push(request.customId ? `\u0001${request.customId}` : `\u0000${request.key}`)
      const budget = thinkingBudgetProblem(request.params)
      if (budget) problem({ file: request.origin.file, line: request.origin.line, message: budget })
    }
  } finally {
    await spool.close()
  }
  // Only now is every source known: a prompt file read late may be an earlier request's output.
  const sourceFiles = new Set(sources.files ?? [])
  for (let i = 0; i < table.length; i++) sourceFiles.add(table.origin(i).file)
  for (const d of outputs.dataOutputs()) sourceFiles.add(d.source)
  const sorted = [...sourceFiles].sort()
  await outputs.checkSourcesNotOverwritten(sorted, sources.real?.bind(sources))

  // Known only now that every request is read: the tag commits to the whole submission's content.
  const tag = withDigest(options.tag, spool.digest())
  try {
    table.setCustomIds(
      customIds(
        table.length,
        (i) => {
          const key = keys.at(i)
          return key.charCodeAt(0) === 1 ? { fixed: key.slice(1) } : key.slice(1)
        },
        tag
      )
    )
  } catch (error) {
    problem({ message: (error as Error).message })
  }

  const requests = table.view()
  const caching: Caching = { mode: options.cache ?? 'off', tokens: new Map() }
  return {
    tag,
    requests,
    chunks: split(requests, limits, problem),
    spoolPath: options.spoolPath,
    dataOutputs: outputs.dataOutputs(),
    sources: sorted,
    ...(schemas.list.length ? { schemas: schemas.list } : {}),
    caching
  }
}

/**
 * The schemas replies must fit, each kept once however many requests use it. Prompt sources check
 * theirs when reading; a ready-made request's own output_config is checked here.
 */
class Schemas {
  readonly list: JsonObject[] = []
  private readonly index = new Map<string, number>()

  constructor(private readonly problem: (p: Problem) => void) {}

  indexOf(request: PromptRequest): { schema?: number } {
    const schema = schemaOf(request.params)
    if (!schema) return {}
    const key = canonicalJson(schema)
    let n = this.index.get(key)
    if (n === undefined) {
      n = this.list.length
      this.list.push(schema)
      this.index.set(key, n)
      const copy = structuredClone(schema)
      const issue = unsupportedFeatures(copy)[0]
      let why = issue && `${issue.message}${issue.at.length ? ` (at ${issue.at.join('/')})` : ''}`
      if (!why) {
        try {
          compileSchema(copy)
        } catch (error) {
          why = `it is not a valid JSON Schema: ${(error as Error).message}`
        }
      }
      if (why) this.problem({ ...at(request.origin), message: `output_config.format.schema: ${why}` })
    }
    return { schema: n }
  }
}

function withCache(cache: CacheKeys | undefined): { cache?: CacheKeys } {
  return cache ? { cache } : {}
}

/** Cuts the requests into consecutive chunks of at most `limits.maxRequests` items and `limits.maxBytes` bytes. */
export function split(requests: readonly PlannedRequest[], limits: Limits, problem: (p: Problem) => void): Chunk[] {
  const chunks: Chunk[] = []
  let current: Chunk | undefined
  // A table's columns are read directly: no object made per request.
  const col = columnsOf(requests)
  for (let i = 0; i < requests.length; i++) {
    // A request that may get cache_control blocks (plan/cache.ts) is counted with their bytes.
    const bytes = itemBytes(col.customId(i), col.bytes(i)) + (col.cache(i) ? CACHE_MARK_BYTES : 0)
    if (bytes + BODY_ENVELOPE_BYTES > limits.maxBytes) {
      problem({
        ...at(requests[i]!.origin),
        message: `This request is ${mb(bytes)}, over the Message Batches API's limit of ${mb(limits.maxBytes)} for a whole batch, so it cannot be sent even on its own. Shorten the prompt.`
      })
      continue
    }
    if (!current || current.end - current.start >= limits.maxRequests || current.bytes + bytes > limits.maxBytes) {
      current = { start: i, end: i, bytes: BODY_ENVELOPE_BYTES }
      chunks.push(current)
    }
    current.end = i + 1
    current.bytes += bytes
  }
  return chunks
}

/**
 * Output paths: every rule of `paths/output.ts`, one request each (compared as a case-insensitive
 * file system would), and never a source file.
 */
class Outputs {
  /** Folded output path → the request whose output it is. */
  private readonly files = new Map<string, number>()
  private readonly data = new Map<string, DataOutput & { origin: Origin }>()
  /** An accepted output's real path (links resolved), where it is not the path itself, for the source check at the end. */
  private readonly reals = new Map<string, string>()
  private readonly rules: OutputRules

  constructor(
    workspace: string,
    private readonly table: RequestTable,
    private readonly problem: (p: Problem) => void
  ) {
    this.rules = new OutputRules(workspace)
  }

  /** Checks the output of request `index` (about to be added to the table). */
  async check(target: OutputTarget, origin: Origin, index: number): Promise<OutputTarget | undefined> {
    const checked = await this.rules.check(target.path)
    if (checked.error !== undefined) {
      this.problem({ file: origin.file, line: (target.kind === 'file' && target.line) || origin.line, message: checked.error })
      return undefined
    }
    const relative = checked.path
    const key = fold(relative)
    if (checked.real !== relative) this.reals.set(relative, checked.real)
    if (target.kind === 'file') {
      const earlier = this.files.get(key)
      const first = earlier !== undefined ? this.table.origin(earlier) : this.data.get(key)?.origin
      if (first) {
        this.problem({ ...at(origin), message: `Output path ${JSON.stringify(relative)} is also the output of ${where(first)}. Give one of them another \`output\`.` })
        return undefined
      }
      this.files.set(key, index)
      return { kind: 'file', path: relative }
    }
    const existing = this.data.get(key)
    if (existing && existing.source === target.source) {
      existing.rows++
    } else if (existing || this.files.has(key)) {
      const first = existing?.origin ?? this.table.origin(this.files.get(key)!)
      this.problem({ ...at(origin), message: `Output path ${JSON.stringify(relative)} is also the output of ${where(first)}. Choose another output-dir or file name.` })
      return undefined
    } else {
      this.data.set(key, { path: relative, source: target.source, format: target.format, rows: 1, origin, ...(target.columns ? { columns: target.columns } : {}) })
    }
    return { ...target, path: relative }
  }

  /** An output that would overwrite a source file is a mistake in output-dir or `output`. */
  async checkSourcesNotOverwritten(files: readonly string[], known?: (file: string) => string | undefined): Promise<void> {
    const sources = await SourceFiles.of(this.rules.workspace, files, known)
    const reported = new Set<string>()
    for (let i = 0; i < this.table.length; i++) {
      const output = this.table.output(i)
      // A data file's output is one path for all its rows: reported once.
      if (!output || reported.has(output.path)) continue
      const source = sources.find({ path: output.path, real: this.reals.get(output.path) ?? output.path })
      if (source === undefined) continue
      if (output.kind === 'data-row') reported.add(output.path)
      this.problem({ ...at(this.table.origin(i)), message: sourceError(output.path, source) })
    }
  }

  dataOutputs(): DataOutput[] {
    return [...this.data.values()].map(({ origin: _origin, ...output }) => output)
  }
}

function fold(relative: string): string {
  return relative.split('/').map(foldSegment).join('/')
}

/**
 * Where an output may go: every rule of `paths/output.ts` but the source check, which needs the
 * whole plan. Kept for callers that check one path; `rules` caches directories across calls.
 */
export async function confineOutput(workspace: string, target: string, rules = new OutputRules(workspace)): Promise<OutputCheck> {
  return rules.workspace === workspace ? rules.check(target) : new OutputRules(workspace).check(target)
}

/** The API's rule for extended thinking: a budget of at least 1,024 tokens, below max_tokens. */
function thinkingBudgetProblem(params: PromptRequest['params']): string | undefined {
  const thinking = params.thinking as { type?: unknown; budget_tokens?: unknown } | undefined
  if (thinking?.type !== 'enabled' || typeof thinking.budget_tokens !== 'number') return undefined
  if (thinking.budget_tokens < 1024) return `thinking.budget_tokens is ${thinking.budget_tokens}; the API needs at least 1,024. Raise it.`
  if (thinking.budget_tokens >= params.max_tokens) {
    return `thinking.budget_tokens (${thinking.budget_tokens}) must be below max_tokens (${params.max_tokens}): raise max_tokens or lower the budget.`
  }
  return undefined
}

function thinkingType(thinking: unknown): string | undefined {
  const type = (thinking as { type?: unknown } | undefined)?.type
  return typeof type === 'string' ? type : undefined
}

function at(origin: Origin): Pick<Problem, 'file' | 'line'> {
  return { file: origin.file, line: origin.line }
}

function where(origin: Origin): string {
  return origin.line ? `${origin.file}:${origin.line}` : origin.file
}

function mb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}
