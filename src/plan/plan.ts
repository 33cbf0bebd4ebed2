import path from 'node:path'
import type { DataFormat, Origin, OutputTarget, Problem, PromptRequest } from '../sources/types.js'
import { realInside, toWorkspacePath } from '../paths.js'
import { assignCustomIds } from './custom-ids.js'
import { BODY_ENVELOPE_BYTES, itemBytes, SpoolWriter } from './spool.js'

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
}

/** A data file rewritten with an `output` field per row once its results are in. */
export interface DataOutput {
  path: string
  source: string
  format: DataFormat
  rows: number
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
  sources: AsyncIterable<PromptRequest>,
  options: { workspace: string; spoolPath: string; tag: string; limits?: Limits; problem: (p: Problem) => void }
): Promise<Plan> {
  const { workspace, problem } = options
  const limits = options.limits ?? API_LIMITS
  const spool = new SpoolWriter(options.spoolPath)
  const requests: PlannedRequest[] = []
  const keys: Array<string | { fixed: string }> = []
  const outputs = new Outputs(workspace, problem)

  try {
    for await (const request of sources) {
      const at = await spool.append(request.params)
      const output = request.output && (await outputs.check(request.output, request.origin))
      requests.push({
        customId: '',
        output,
        origin: request.origin,
        model: request.params.model,
        maxTokens: request.params.max_tokens,
        thinking: thinkingType(request.params.thinking),
        ...at
      })
      keys.push(request.customId ? { fixed: request.customId } : request.key)
    }
  } finally {
    await spool.close()
  }
  outputs.checkSourcesNotOverwritten(requests)

  try {
    assignCustomIds(keys, options.tag).forEach((id, i) => (requests[i]!.customId = id))
  } catch (error) {
    problem({ message: (error as Error).message })
  }

  return { tag: options.tag, requests, chunks: split(requests, limits, problem), spoolPath: options.spoolPath, dataOutputs: outputs.dataOutputs() }
}

/** Cuts the requests into consecutive chunks of at most `limits.maxRequests` items and `limits.maxBytes` bytes. */
export function split(requests: readonly PlannedRequest[], limits: Limits, problem: (p: Problem) => void): Chunk[] {
  const chunks: Chunk[] = []
  let current: Chunk | undefined
  requests.forEach((request, i) => {
    const bytes = itemBytes(request.customId, request.bytes)
    if (bytes + BODY_ENVELOPE_BYTES > limits.maxBytes) {
      problem({
        ...at(request.origin),
        message: `This request is ${mb(bytes)}, over the Message Batches API's limit of ${mb(limits.maxBytes)} for a whole batch, so it cannot be sent even on its own. Shorten the prompt.`
      })
      return
    }
    if (!current || current.end - current.start >= limits.maxRequests || current.bytes + bytes > limits.maxBytes) {
      current = { start: i, end: i, bytes: BODY_ENVELOPE_BYTES }
      chunks.push(current)
    }
    current.end = i + 1
    current.bytes += bytes
  })
  return chunks
}

/** Output paths: inside the workspace, out of `.git`, one request each, never a source file. */
class Outputs {
  private readonly files = new Map<string, Origin>()
  private readonly data = new Map<string, DataOutput & { origin: Origin }>()
  private readonly realChecked = new Map<string, boolean>()

  constructor(
    private readonly workspace: string,
    private readonly problem: (p: Problem) => void
  ) {}

  async check(target: OutputTarget, origin: Origin): Promise<OutputTarget | undefined> {
    const confined = await confineOutput(this.workspace, target.path, this.realChecked)
    if ('error' in confined) {
      this.problem({ ...at(origin), message: confined.error })
      return undefined
    }
    const relative = confined.path
    if (target.kind === 'file') {
      const first = this.files.get(relative) ?? this.data.get(relative)?.origin
      if (first) {
        this.problem({ ...at(origin), message: `Output path "${relative}" is also the output of ${where(first)}. Give one of them another \`output\`.` })
        return undefined
      }
      this.files.set(relative, origin)
      return { ...target, path: relative }
    }
    const existing = this.data.get(relative)
    if (existing && existing.source === target.source) {
      existing.rows++
    } else if (existing || this.files.has(relative)) {
      const first = existing?.origin ?? this.files.get(relative)!
      this.problem({ ...at(origin), message: `Output path "${relative}" is also the output of ${where(first)}. Choose another output-dir or file name.` })
      return undefined
    } else {
      this.data.set(relative, { path: relative, source: target.source, format: target.format, rows: 1, origin })
    }
    return { ...target, path: relative }
  }

  /** An output that would overwrite a prompt or data file is a mistake in output-dir or `output`. */
  checkSourcesNotOverwritten(requests: readonly PlannedRequest[]): void {
    const sources = new Set(requests.map((r) => r.origin.file))
    for (const r of requests) {
      if (r.output && sources.has(r.output.path) && (r.output.kind === 'file' || r.origin.row === 1)) {
        this.problem({ ...at(r.origin), message: `Output path "${r.output.path}" would overwrite a source file. Choose another output-dir or \`output\`.` })
      }
    }
  }

  dataOutputs(): DataOutput[] {
    return [...this.data.values()].map(({ origin: _origin, ...output }) => output)
  }

}

/**
 * Where an output may go: inside the workspace once links are followed, and not into `.git`.
 * Planning checks every output with it, and collection checks again the paths a manifest names.
 * `seen` caches directories already resolved: thousands of outputs usually share a few folders.
 */
export async function confineOutput(
  workspace: string,
  target: string,
  seen = new Map<string, boolean>()
): Promise<{ path: string } | { error: string }> {
  const relative = toWorkspacePath(workspace, target)
  // Only the directory needs resolving: outputs are written by renaming a new file into place,
  // which replaces a link at the path itself rather than following it.
  const dir = relative === undefined ? undefined : path.posix.dirname(relative)
  let inside = dir === undefined ? false : seen.get(dir)
  if (inside === undefined) {
    inside = await realInside(workspace, dir!)
    seen.set(dir!, inside)
  }
  if (relative === undefined || relative === '.' || !inside) {
    return { error: `Output path "${target}" is outside the workspace. Choose a path inside the repository.` }
  }
  if (relative === '.git' || relative.startsWith('.git/')) {
    return { error: `Output path "${target}" is inside .git. Choose another output path.` }
  }
  return { path: relative }
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
