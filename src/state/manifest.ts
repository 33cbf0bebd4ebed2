import type { MessageBatch } from '../anthropic/client.js'
import { isTag } from '../plan/custom-ids.js'
import type { Chunk, DataOutput, Plan, PlannedRequest } from '../plan/plan.js'
import { OutputRules, SourceFiles } from '../paths/output.js'
import { confineRead, controlCharacter, toWorkspacePath } from '../paths/workspace.js'
import type { DataFormat, Origin, OutputTarget } from '../sources/types.js'

export const MANIFEST_VERSION = 2
export const JOURNAL_PREFIX = 'claude-batch-journal-'
export const MANIFEST_PREFIX = 'claude-batch-manifest-'
export const RESULTS_PREFIX = 'claude-batch-results-'
export const MANIFEST_FILE = 'manifest.json'

/** A batch of a submission, and which planned chunk it carries. */
export interface BatchRef {
  id: string
  /** Index into `chunks`. */
  chunk: number
  createdAt: string
  expiresAt: string
  /**
   * False for a batch found in the list after a create whose answer was lost: it is this
   * submission's only if its result ids prove it, and nothing is written from it until they do.
   */
  verified: boolean
}

/**
 * What a later `collect` needs to finish a submission: its tag, the batches, and for every custom_id
 * where it came from and where its result goes. It never holds the API key or the prompts themselves.
 *
 * The same document is the journal: written before the first create with no batches and
 * `complete: false`, so that a run that dies between a create and the manifest leaves a record that
 * collect can reconcile against the API's batch list (state/journal.ts).
 */
export interface Manifest {
  version: typeof MANIFEST_VERSION
  /** The submission's tag: every custom_id it sent starts with it. */
  tag: string
  /** `owner/name` of the repository the run belonged to. */
  repository: string
  /** The commit the prompts were read from. */
  commit: string
  ref: string
  run: { id: number; attempt: number; workflow: string; event: string; url: string }
  createdAt: string
  /** When the first create was sent: none of this submission's batches is older. */
  startedAt: string
  /** How many requests each planned batch holds, in plan order. */
  chunks: number[]
  batches: BatchRef[]
  /** True once every chunk has a batch; false in the journal and after a create that failed. */
  complete: boolean
  outputDir: string
  /**
   * One row per request, in plan order: [custom_id, model, max_tokens, source file, line, row, output,
   * fingerprint]. The fingerprint (absent from older manifests) lets collect update the lock file and
   * a later submit skip requests still pending here.
   */
  requests: ManifestRow[]
  /** Each data file's output, with the sha256 of the data file as submitted. */
  dataOutputs: Array<DataOutput & { sha256?: string }>
  /** Every file the requests were read from (template and system prompt file too): collect never writes over one. */
  sources?: string[]
  /** Lock keys and output files removed by prune, for collect's checkout and pull request. */
  pruned?: { keys: string[]; files: string[] }
  /** The JSON Schemas replies must fit (structured output): collect validates every reply against its own. */
  schemas?: unknown[]
  /** Which requests use which schema: [first request, end (exclusive), index into `schemas`]. */
  requestSchemas?: Array<[start: number, end: number, schema: number]>
}

type ManifestOutput = string | [path: string, source: string, format: DataFormat, index: number]
type ManifestRow = [
  customId: string,
  model: string,
  maxTokens: number,
  file: string,
  line: number | null,
  row: number | null,
  output: ManifestOutput | null,
  fingerprint?: string | null
]

/**
 * Artifact names, all keyed by the submission's tag: the journal before any batch exists; the
 * manifest, which also names the first batch so that `batch-id` finds it by name; the results.
 */
export function journalName(tag: string): string {
  return `${JOURNAL_PREFIX}${tag}`
}

export function manifestName(tag: string, firstBatchId: string): string {
  return `${MANIFEST_PREFIX}${tag}-${firstBatchId}`
}

export function resultsName(tag: string): string {
  return `${RESULTS_PREFIX}${tag}`
}

/** What an artifact name says: its kind, the submission's tag and, for a manifest, its first batch. */
export function parseArtifactName(name: string): { kind: 'journal' | 'manifest' | 'results'; tag: string; batchId?: string } | undefined {
  for (const [kind, prefix] of [
    ['journal', JOURNAL_PREFIX],
    ['manifest', MANIFEST_PREFIX],
    ['results', RESULTS_PREFIX]
  ] as const) {
    if (!name.startsWith(prefix)) continue
    const rest = name.slice(prefix.length)
    const tag = rest.slice(0, rest.indexOf('-') < 0 ? rest.length : rest.indexOf('-'))
    if (!isTag(tag)) return undefined
    const batchId = rest.slice(tag.length + 1) || undefined
    if ((kind === 'manifest') !== Boolean(batchId)) return undefined
    return { kind, tag, batchId }
  }
  return undefined
}

/** A created batch as the manifest records it. */
export function batchRef(batch: MessageBatch, chunk: number, verified: boolean): BatchRef {
  return { id: batch.id, chunk, createdAt: batch.created_at, expiresAt: batch.expires_at, verified }
}

export function buildManifest(
  plan: Plan,
  batches: readonly BatchRef[],
  context: { outputDir: string; startedAt: string; env?: NodeJS.ProcessEnv; dataHashes?: ReadonlyMap<string, string> }
): Manifest {
  const env = context.env ?? process.env
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  const repository = env.GITHUB_REPOSITORY || ''
  const runId = Number(env.GITHUB_RUN_ID) || 0
  return {
    version: MANIFEST_VERSION,
    tag: plan.tag,
    repository,
    commit: env.GITHUB_SHA || '',
    ref: env.GITHUB_REF || '',
    run: {
      id: runId,
      attempt: Number(env.GITHUB_RUN_ATTEMPT) || 1,
      workflow: env.GITHUB_WORKFLOW || '',
      event: env.GITHUB_EVENT_NAME || '',
      url: repository && runId ? `${server}/${repository}/actions/runs/${runId}` : ''
    },
    createdAt: new Date().toISOString(),
    startedAt: context.startedAt,
    chunks: plan.chunks.map((c) => c.end - c.start),
    batches: [...batches],
    complete: plan.chunks.every((_, i) => batches.some((b) => b.chunk === i && b.verified)),
    outputDir: context.outputDir,
    requests: plan.requests.map(toRow),
    dataOutputs: plan.dataOutputs.map((d) => ({ ...d, sha256: context.dataHashes?.get(d.source) })),
    ...(plan.sources ? { sources: plan.sources } : {}),
    ...(plan.pruned ? { pruned: plan.pruned } : {}),
    ...(plan.schemas?.length ? { schemas: plan.schemas, requestSchemas: schemaRanges(plan.requests) } : {})
  }
}

/** Runs of consecutive requests sharing a schema: a data file's 100,000 rows make one entry. */
function schemaRanges(requests: readonly PlannedRequest[]): Array<[number, number, number]> {
  const ranges: Array<[number, number, number]> = []
  requests.forEach((r, i) => {
    if (r.schema === undefined) return
    const last = ranges[ranges.length - 1]
    if (last && last[1] === i && last[2] === r.schema) last[1] = i + 1
    else ranges.push([i, i + 1, r.schema])
  })
  return ranges
}

/** The schemas and which requests use them, checked as the untrusted input a manifest is. */
function readSchemas(m: Manifest, requests: PlannedRequest[]): unknown[] | undefined {
  if (m.schemas === undefined && m.requestSchemas === undefined) return undefined
  const schemas = m.schemas
  if (!Array.isArray(schemas) || !schemas.every((s) => s !== null && typeof s === 'object' && !Array.isArray(s)) || !Array.isArray(m.requestSchemas)) {
    throw new Error('its schemas are malformed')
  }
  for (const range of m.requestSchemas) {
    const ok = Array.isArray(range) && range.length === 3 && range.every((n) => Number.isInteger(n) && n >= 0)
    if (!ok || range[0] >= range[1] || range[1] > requests.length || range[2] >= schemas.length) throw new Error('its schema ranges are malformed')
    for (let i = range[0]; i < range[1]; i++) requests[i]!.schema = range[2]
  }
  return schemas
}

function toRow(r: PlannedRequest): ManifestRow {
  const output: ManifestOutput | null = !r.output ? null : r.output.kind === 'file' ? r.output.path : [r.output.path, r.output.source, r.output.format, r.output.index]
  return [r.customId, r.model, r.maxTokens, r.origin.file, r.origin.line ?? null, r.origin.row ?? null, output, r.fingerprint ?? null]
}

/**
 * Reads a manifest back into the plan that collection works from. Everything in it is checked
 * again as untrusted input: its shape, and every output path against the workspace (links
 * included), because a manifest is only a file someone uploaded.
 */
/** Output paths checked at once when reading a manifest: enough to keep the file system busy. */
const CHECKS_IN_FLIGHT = 64

export async function planFromManifest(manifest: unknown, workspace: string, outputDir?: string): Promise<{ manifest: Manifest; plan: Plan }> {
  const m = manifest as Manifest
  if (!m || typeof m !== 'object' || m.version !== MANIFEST_VERSION || !Array.isArray(m.requests) || !Array.isArray(m.batches) || !Array.isArray(m.chunks)) {
    throw new Error(`not a version ${MANIFEST_VERSION} manifest`)
  }
  if (typeof m.tag !== 'string' || !isTag(m.tag)) throw new Error('its tag is malformed')
  if (!m.chunks.every((n) => Number.isInteger(n) && n > 0)) throw new Error('its chunks are malformed')
  for (const b of m.batches) {
    if (!b || typeof b.id !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(b.id) || !Number.isInteger(b.chunk) || b.chunk < 0 || b.chunk >= m.chunks.length) {
      throw new Error('a batch entry is malformed')
    }
  }
  // With another output-dir than the submission's, outputs under the old one move to the new one.
  const from = typeof m.outputDir === 'string' ? m.outputDir.replace(/\/$/, '') + '/' : undefined
  const moved = (p: string): string => (outputDir && from && p.startsWith(from) ? `${outputDir}/${p.slice(from.length)}` : p)
  // Every file the submission read, as far as the manifest tells: no output may overwrite one.
  const sourcePaths: string[] = []
  for (const row of m.requests) if (Array.isArray(row) && typeof row[3] === 'string') sourcePaths.push(row[3])
  for (const d of Array.isArray(m.dataOutputs) ? m.dataOutputs : []) if (typeof d?.source === 'string') sourcePaths.push(d.source)
  if (Array.isArray(m.sources)) for (const s of m.sources) if (typeof s === 'string') sourcePaths.push(s)
  const rules = new OutputRules(workspace, await SourceFiles.of(workspace, sourcePaths))
  const confine = async (p: unknown): Promise<string> => {
    if (typeof p !== 'string') throw new Error('an output path is not a string')
    const result = await rules.check(moved(p))
    if (result.error !== undefined) throw new Error(result.error)
    return result.path
  }
  // Source files are read again (a data file, to copy its rows): confined like any input.
  const confineSource = async (p: unknown): Promise<string> => {
    const result = await confineRead(workspace, p, 'A source file')
    if (result.error !== undefined) throw new Error(result.error)
    return result.path
  }
  // The same data file and generated file stand in every row of a data output: checked once each.
  const once = <T>(check: (p: unknown) => Promise<T>): ((p: unknown) => Promise<T>) => {
    const seen = new Map<unknown, Promise<T>>()
    return (p) => {
      let found = seen.get(p)
      if (!found) seen.set(p, (found = check(p)))
      return found
    }
  }
  const confineData = once(confine)
  const confineDataSource = once(confineSource)
  const requestOf = async (row: unknown): Promise<PlannedRequest> => {
    if (!Array.isArray(row) || (row.length !== 7 && row.length !== 8) || typeof row[0] !== 'string' || typeof row[3] !== 'string') throw new Error('a request row is malformed')
    const fp: unknown = row[7]
    if (fp !== undefined && fp !== null && !isFingerprint(fp)) throw new Error('a request fingerprint is malformed')
    if (!row[0].startsWith(`${m.tag}_`)) throw new Error('a custom_id does not carry the submission tag')
    const [customId, model, maxTokens, file, line, index, out] = row as [string, unknown, unknown, string, number, number, unknown]
    // Only named in messages, never opened: a lexical check keeps it to a workspace path that cannot break a log line.
    if (controlCharacter(file) || toWorkspacePath(workspace, file) !== file)
      throw new Error(`a request row names the source file ${JSON.stringify(file)}, which is not a workspace path`)
    let output: OutputTarget | undefined
    if (typeof out === 'string') output = { kind: 'file', path: await confine(out) }
    else if (Array.isArray(out)) {
      const [path, source, format, at] = out as [unknown, unknown, DataFormat, number]
      if (!['csv', 'jsonl', 'json'].includes(format) || !Number.isInteger(at)) throw new Error('a data row output is malformed')
      output = { kind: 'data-row', path: await confineData(path), source: await confineDataSource(source), format, index: at }
    }
    const origin: Origin = { file, ...(line ? { line } : {}), ...(index ? { row: index } : {}) }
    return { customId, model: String(model), maxTokens: Number(maxTokens), origin, output, offset: 0, bytes: 0, ...(fp ? { fingerprint: fp } : {}) }
  }
  // Checked CHECKS_IN_FLIGHT rows at a time (each check waits on the file system), and the first bad
  // row in manifest order is the one reported, whatever finished first.
  const requests: PlannedRequest[] = []
  for (let start = 0; start < m.requests.length; start += CHECKS_IN_FLIGHT) {
    const settled = await Promise.allSettled((m.requests as unknown[]).slice(start, start + CHECKS_IN_FLIGHT).map(requestOf))
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason
      requests.push(s.value)
    }
  }
  const dataOutputs: DataOutput[] = []
  for (const d of m.dataOutputs ?? []) {
    if (d.kept !== undefined && !(Array.isArray(d.kept) && d.kept.every((k) => Array.isArray(k) && Number.isInteger(k[0]) && k[0] >= 0 && isFingerprint(k[1])))) {
      throw new Error("a data output's kept rows are malformed")
    }
    if (d.columns !== undefined && !(Array.isArray(d.columns) && d.columns.every((c) => typeof c === 'string' && !controlCharacter(c)))) {
      throw new Error("a data output's columns are malformed")
    }
    dataOutputs.push({ ...d, path: await confine(d.path), source: await confineSource(d.source) })
  }

  let start = 0
  const chunks: Chunk[] = m.chunks.map((n) => {
    const chunk = { start, end: start + n, bytes: 0 }
    start = chunk.end
    return chunk
  })
  if (start !== requests.length) throw new Error('its chunks do not add up to its requests')
  let pruned: Plan['pruned']
  if (m.pruned !== undefined) {
    const p = m.pruned as { keys?: unknown; files?: unknown }
    if (!Array.isArray(p?.keys) || !Array.isArray(p.files) || !p.keys.every((k) => typeof k === 'string' && !controlCharacter(k))) throw new Error('its pruned list is malformed')
    // A file to delete is held to the rules of a file to write: inside the workspace, never a source.
    // And it must lie under the submission's output-dir, the only place prune deletes from at submit:
    // a record naming README.md as pruned must not delete it.
    if (!from || from === './' || !p.files.every((f) => typeof f === 'string' && f.startsWith(from))) throw new Error('its pruned list names a file outside its output-dir')
    pruned = { keys: p.keys as string[], files: await Promise.all(p.files.map(confine)) }
  }
  const schemas = readSchemas(m, requests) as Plan['schemas']
  return {
    manifest: m,
    plan: { tag: m.tag, requests, chunks, dataOutputs, spoolPath: '', sources: [...new Set(sourcePaths)].sort(), ...(pruned ? { pruned } : {}), ...(schemas ? { schemas } : {}) }
  }
}

function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)
}
