import type { MessageBatch } from '../anthropic/client.js'
import type { Chunk, DataOutput, Plan, PlannedRequest } from '../plan/plan.js'
import { OutputRules, SourceFiles } from '../paths/output.js'
import { confineRead, controlCharacter, toWorkspacePath } from '../paths/workspace.js'
import type { DataFormat, Origin, OutputTarget } from '../sources/types.js'

export const MANIFEST_VERSION = 1
export const MANIFEST_PREFIX = 'claude-batch-manifest-'
export const RESULTS_PREFIX = 'claude-batch-results-'
export const MANIFEST_FILE = 'manifest.json'

/**
 * What a later `collect` needs to finish a submission: the batches, and for every custom_id where
 * it came from and where its result goes. It never holds the API key or the prompts themselves.
 */
export interface Manifest {
  version: typeof MANIFEST_VERSION
  /** `owner/name` of the repository the run belonged to. */
  repository: string
  /** The commit the prompts were read from. */
  commit: string
  ref: string
  run: { id: number; attempt: number; workflow: string; event: string; url: string }
  createdAt: string
  batches: Array<{ id: string; createdAt: string; expiresAt: string; requests: number }>
  outputDir: string
  /** One row per request, in plan order: [custom_id, model, max_tokens, source file, line, row, output]. */
  requests: ManifestRow[]
  /** Each data file's output, with the sha256 of the data file as submitted. */
  dataOutputs: Array<DataOutput & { sha256?: string }>
  /** Every file the requests were read from (template and system prompt file too): collect never writes over one. */
  sources?: string[]
}

type ManifestOutput = string | [path: string, source: string, format: DataFormat, index: number]
type ManifestRow = [customId: string, model: string, maxTokens: number, file: string, line: number | null, row: number | null, output: ManifestOutput | null]

/** The name of the manifest artifact of a submission: named after its first batch. */
export function manifestName(batchId: string): string {
  return `${MANIFEST_PREFIX}${batchId}`
}

export function resultsName(batchId: string): string {
  return `${RESULTS_PREFIX}${batchId}`
}

export function buildManifest(
  plan: Plan,
  batches: readonly MessageBatch[],
  context: { outputDir: string; env?: NodeJS.ProcessEnv; dataHashes?: ReadonlyMap<string, string> }
): Manifest {
  const env = context.env ?? process.env
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  const repository = env.GITHUB_REPOSITORY || ''
  const runId = Number(env.GITHUB_RUN_ID) || 0
  return {
    version: MANIFEST_VERSION,
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
    batches: batches.map((b, i) => ({
      id: b.id,
      createdAt: b.created_at,
      expiresAt: b.expires_at,
      requests: plan.chunks[i] ? plan.chunks[i]!.end - plan.chunks[i]!.start : 0
    })),
    outputDir: context.outputDir,
    requests: plan.requests.map(toRow),
    dataOutputs: plan.dataOutputs.map((d) => ({ ...d, sha256: context.dataHashes?.get(d.source) })),
    ...(plan.sources ? { sources: plan.sources } : {})
  }
}

function toRow(r: PlannedRequest): ManifestRow {
  const output: ManifestOutput | null = !r.output
    ? null
    : r.output.kind === 'file'
      ? r.output.path
      : [r.output.path, r.output.source, r.output.format, r.output.index]
  return [r.customId, r.model, r.maxTokens, r.origin.file, r.origin.line ?? null, r.origin.row ?? null, output]
}

/**
 * Reads a manifest back into the plan that collection works from. Everything in it is checked
 * again as untrusted input: its shape, and every output path against the workspace (links
 * included), because a manifest is only a file someone uploaded.
 */
export async function planFromManifest(manifest: unknown, workspace: string, outputDir?: string): Promise<{ manifest: Manifest; plan: Plan }> {
  const m = manifest as Manifest
  if (!m || typeof m !== 'object' || m.version !== MANIFEST_VERSION || !Array.isArray(m.requests) || !Array.isArray(m.batches)) {
    throw new Error(`not a version ${MANIFEST_VERSION} manifest`)
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
  const requests: PlannedRequest[] = []
  for (const row of m.requests) {
    if (!Array.isArray(row) || row.length !== 7 || typeof row[0] !== 'string' || typeof row[3] !== 'string') throw new Error('a request row is malformed')
    const [customId, model, maxTokens, file, line, index, out] = row
    // Only named in messages, never opened: a lexical check keeps it to a workspace path that cannot break a log line.
    if (controlCharacter(file) || toWorkspacePath(workspace, file) !== file) throw new Error(`a request row names the source file ${JSON.stringify(file)}, which is not a workspace path`)
    let output: OutputTarget | undefined
    if (typeof out === 'string') output = { kind: 'file', path: await confine(out) }
    else if (Array.isArray(out)) {
      const [path, source, format, at] = out
      if (!['csv', 'jsonl', 'json'].includes(format) || !Number.isInteger(at)) throw new Error('a data row output is malformed')
      output = { kind: 'data-row', path: await confine(path), source: await confineSource(source), format, index: at }
    }
    const origin: Origin = { file, ...(line ? { line } : {}), ...(index ? { row: index } : {}) }
    requests.push({ customId, model: String(model), maxTokens: Number(maxTokens), origin, output, offset: 0, bytes: 0 })
  }
  const dataOutputs: DataOutput[] = []
  for (const d of m.dataOutputs ?? []) dataOutputs.push({ ...d, path: await confine(d.path), source: await confineSource(d.source) })

  let start = 0
  const chunks: Chunk[] = m.batches.map((b) => {
    const chunk = { start, end: start + b.requests, bytes: 0 }
    start = chunk.end
    return chunk
  })
  if (start !== requests.length) throw new Error('its batches do not add up to its requests')
  return { manifest: m, plan: { requests, chunks, dataOutputs, spoolPath: '', sources: [...new Set(sourcePaths)].sort() } }
}
