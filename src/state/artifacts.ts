import path from 'node:path'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createHash } from 'node:crypto'
import * as core from '@actions/core'
import { MANIFEST_FILE, parseArtifactName } from './manifest.js'
import { reliable, type Octokit } from '../github/octokit.js'
import { readZipEntry } from '../github/artifact-zip.js'
import { DEFAULT_LIMITS, UnreadableAnswerError, isTransient, withRetries, type CallLimits } from '../github/retry.js'
import { info } from '../report/log.js'

/**
 * Where manifests and results are kept between runs: workflow artifacts on GitHub, or a folder
 * for runs without the Actions artifact service (a local run, @github/local-action).
 */

/** True when this process can upload artifacts: the runner gives these to JavaScript actions only. */
export function artifactServiceAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL)
}

/** The folder that stands in for the artifact service. */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.RUNNER_TEMP || env.GITHUB_WORKSPACE || process.cwd(), 'claude-batch-state')
}

/** What uploadArtifact needs of @actions/artifact's client (a stub in tests). */
export interface ArtifactUploader {
  uploadArtifact(name: string, files: string[], root: string, options: { retentionDays: number }): Promise<{ id?: number }>
  /** This run's finalized artifact of that name; throws (ArtifactNotFoundError) when there is none. */
  getArtifact(name: string): Promise<{ artifact: { id: number } }>
}

// An upload carries every generated file of a submission: it gets more time than a REST call.
export const UPLOAD_LIMITS: CallLimits = { timeoutMs: 300_000, deadlineMs: 600_000, minDelayMs: 2_000, maxDelayMs: 30_000 }

/**
 * Uploads `files` (all under `root`) as an artifact of this run, retried until the deadline. Before
 * each retry it looks whether an earlier attempt did finish (its answer lost): an artifact name is
 * unique within a run, so a second upload could only fail. The artifact client is loaded only
 * here: it is the heaviest module of the action and most runs of a step never need it.
 */
export async function uploadArtifact(
  name: string,
  files: string[],
  root: string,
  retentionDays: number,
  options: { client?: ArtifactUploader; limits?: CallLimits } = {}
): Promise<number | undefined> {
  const client = options.client ?? new (await import('@actions/artifact')).DefaultArtifactClient()
  let attempts = 0
  return withRetries(
    `Uploading artifact ${name}`,
    async () => {
      try {
        if (attempts++ > 0) {
          const done = await uploadedAlready(client, name)
          if (done !== undefined) return done
        }
        return (await client.uploadArtifact(name, files, root, { retentionDays })).id
      } catch (error) {
        if (/already exists|conflict/i.test(String((error as Error)?.message))) {
          // An earlier attempt made the artifact and its answer was lost: done if it was finalized;
          // otherwise the name is taken in this run for good, and no retry can mend that.
          const done = await uploadedAlready(client, name)
          if (done !== undefined) return done
          throw new Error(`artifact ${name} was created by an attempt whose answer was lost, but never finished; the name cannot be used again in this run`, { cause: error })
        }
        throw uploadFailure(error)
      }
    },
    options.limits ?? UPLOAD_LIMITS,
    (error, n) => info(`Uploading artifact ${name}: attempt ${n} failed (${(error as Error).message}); trying again.`)
  )
}

async function uploadedAlready(client: ArtifactUploader, name: string): Promise<number | undefined> {
  try {
    return (await client.getArtifact(name)).artifact.id
  } catch (error) {
    if ((error as Error).name === 'ArtifactNotFoundError') return undefined
    throw error
  }
}

// The artifact client's own errors that no retry can mend: missing files, a full storage quota, GHES.
const PERMANENT_UPLOAD_ERRORS = new Set(['FilesNotFoundError', 'UsageError', 'GHESNotSupportedError'])

/**
 * The artifact client retries its service calls itself and then throws plain Errors; anything but a
 * known permanent error is taken as transient, and marked so for withRetries.
 */
function uploadFailure(error: unknown): unknown {
  const e = error as Error
  if (PERMANENT_UPLOAD_ERRORS.has(e?.name) || isTransient(error)) return error
  // "Received non-retryable error" is the service refusing the request ("already exists" is handled by the caller).
  if (/non-retryable/i.test(String(e?.message))) return error
  return new UnreadableAnswerError(String(e?.message ?? error))
}

/** Saves a manifest file to the local stand-in; returns where it went. */
export async function saveLocalManifest(name: string, manifestFile: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = path.join(localStateDir(env), 'manifests')
  await mkdir(dir, { recursive: true })
  const target = path.join(dir, `${name}.json`)
  await writeFile(target, await readFile(manifestFile))
  return target
}

/** A submission's record found by collect, not yet read or trusted. */
export interface ManifestCandidate {
  name: string
  /** The submission's tag. */
  tag: string
  /** A manifest lists the batches; a journal alone means the run stopped before it could write one. */
  kind: 'manifest' | 'journal'
  /** The first batch, from the manifest's name; undefined for a journal. */
  batchId?: string
  /** Set for artifacts; its run is where it can be downloaded from. */
  artifact?: { id: number; runId: number; createdAt: string; digest?: string }
  /** Set for local records. */
  file?: string
  /** Why it must not be used, when it must not. */
  untrusted?: string
}

type ArtifactListing = Awaited<ReturnType<Octokit['rest']['actions']['listArtifactsForRepo']>>['data']['artifacts']

/*
 * Finding records by name. The list's `name` filter matches one exact name (no prefix), and a
 * journal's or manifest's name carries the submission's tag, which only the submission knows. So:
 * - a name known in advance is looked up by name: whether a submission was collected
 *   (resultsExist), and nothing else is paged for it;
 * - the pending submissions, whose tags nobody knows yet, come from one listing of the repository's
 *   artifacts, newest first, that stops at the first page older than LISTING_HORIZON_MS instead of
 *   paging back to the oldest artifact the repository keeps (up to 400 days of every workflow's
 *   artifacts). A fixed-name index artifact was considered and left: names are unique per run, so
 *   two submit jobs of one run (a matrix) could not both write it.
 * Assumption: GitHub lists a repository's artifacts newest first (it does in practice; the order is
 * not documented). The horizon is checked per page, so a page out of order costs nothing.
 */

// A record older than this names batches whose results the API has deleted (29 days after
// creation): nothing in it can be collected any more. Two days' margin for runs that wait.
export const LISTING_HORIZON_MS = 31 * 24 * 3600_000

/** The repository's artifacts, newest first: those since the horizon, or all those with one exact name. */
async function listArtifacts(octokit: Octokit, owner: string, repo: string, limits: CallLimits, name?: string, now = Date.now()): Promise<ArtifactListing> {
  reliable(octokit, limits)
  const params = { owner, repo, per_page: 100, ...(name ? { name } : {}) }
  if (name) return octokit.paginate(octokit.rest.actions.listArtifactsForRepo, params)
  return octokit.paginate(octokit.rest.actions.listArtifactsForRepo, params, (response, done) => {
    const page = response.data
    if (page.length && page.every((a) => a.created_at && now - Date.parse(a.created_at) > LISTING_HORIZON_MS)) done()
    return page
  })
}

/**
 * The submissions not collected yet, from one listing of record names: for each tag, its manifest if
 * there is one, else its journal; none once a results artifact carries the tag. Newest first, so
 * a re-run's record (same name, later run) wins.
 */
export function pendingSubmissions(records: ReadonlyArray<{ name: string } & Omit<ManifestCandidate, 'name' | 'tag' | 'kind' | 'batchId'>>): ManifestCandidate[] {
  const parsed = records.map((r) => ({ r, n: parseArtifactName(r.name) })).filter((x) => x.n)
  const collected = new Set(parsed.filter((x) => x.n!.kind === 'results').map((x) => x.n!.tag))
  const byTag = new Map<string, ManifestCandidate>()
  for (const { r, n } of parsed) {
    if (n!.kind === 'results' || collected.has(n!.tag)) continue
    const existing = byTag.get(n!.tag)
    if (existing && (existing.kind === 'manifest' || n!.kind === 'journal')) continue
    byTag.set(n!.tag, { ...r, tag: n!.tag, kind: n!.kind as 'manifest' | 'journal', batchId: n!.batchId })
  }
  return [...byTag.values()]
}

/**
 * Lists the repository's submissions that have no results artifact yet, in one listing back to the
 * horizon (see above; a batch-id cannot be looked up by name, since names carry the tag), retried on transient failures. A record from a run whose head repository is not this one (a pull
 * request from a fork) is marked untrusted: an artifact's name is not proof of who made it.
 */
export async function findPendingArtifacts(octokit: Octokit, owner: string, repo: string, options: { limits?: CallLimits; now?: number } = {}): Promise<ManifestCandidate[]> {
  const artifacts = await listArtifacts(octokit, owner, repo, options.limits ?? DEFAULT_LIMITS, undefined, options.now)
  return pendingSubmissions(
    artifacts
      .filter((a) => !a.expired)
      .map((a) => {
        const run = a.workflow_run
        const fork = run && run.head_repository_id !== undefined && run.head_repository_id !== run.repository_id
        return {
          name: a.name,
          artifact: { id: a.id, runId: run?.id ?? 0, createdAt: a.created_at ?? '', digest: (a as { digest?: string | null }).digest ?? undefined },
          untrusted: !run?.id ? 'it names no workflow run' : fork ? 'it was made by a run from another repository (a pull request from a fork)' : undefined
        }
      })
  )
}

/**
 * True when the results artifact `name` exists (a submission was collected) (it was collected), expired or not.
 * Collect asks this right before its pull request and before uploading results: the reusable
 * workflow's concurrency group queues collects of one repository, but a collect step in any other
 * workflow (or a re-run) is outside that group, and without this check two of them would each
 * upload a results artifact and update the pull request for one submission.
 */
export async function resultsExist(octokit: Octokit, owner: string, repo: string, name: string, limits: CallLimits = DEFAULT_LIMITS): Promise<boolean> {
  return (await listArtifacts(octokit, owner, repo, limits, name)).length > 0
}

/**
 * A manifest that could not be downloaded: the service failed past the deadline (`transient`,
 * left for the next run), or the artifact is gone or out of reach of the token. Distinct from a
 * manifest that was read and refused: this says nothing about the submission itself.
 */
export class ArtifactUnavailableError extends Error {
  override readonly name = 'ArtifactUnavailableError'
  constructor(
    message: string,
    readonly transient: boolean
  ) {
    super(message)
  }
}

/** A manifest that arrived whole but cannot be a manifest: its own fault, not the service's. */
export class ManifestContentError extends Error {
  override readonly name = 'ManifestContentError'
}

// A manifest holds one row per request; far below this even for the largest submission.
const MAX_MANIFEST_ZIP_BYTES = 512 * 1024 * 1024

/**
 * Downloads a manifest artifact from the run that made it and returns its parsed content: the
 * REST download (a redirect to blob storage), then the zip, checked against the digest the
 * listing gave. Retried on transient failures (a cut or garbled download included) within the
 * deadline; then ArtifactUnavailableError. A manifest that arrived whole but is not JSON, or
 * lacks manifest.json, throws a plain Error: that one is the manifest's fault.
 */
export async function downloadManifest(
  candidate: ManifestCandidate,
  find: { token: string; owner: string; repo: string } | undefined,
  options: { limits?: CallLimits; octokit?: Octokit; fetch?: typeof fetch } = {}
): Promise<unknown> {
  if (candidate.file) return JSON.parse(await readFile(candidate.file, 'utf8'))
  if (!find) throw new ArtifactUnavailableError(`${candidate.name} is an artifact, and the GitHub API is not available here to download it.`, false)
  const artifact = candidate.artifact!
  // Not a reliable() octokit: the whole download is retried below, and retries must not nest.
  const octokit = options.octokit ?? (await import('@actions/github')).getOctokit(find.token)
  const what = `Downloading ${candidate.name} (artifact ${artifact.id})`
  let text: string
  try {
    text = await withRetries(
      what,
      async (signal) => {
        const redirect = await octokit.rest.actions.downloadArtifact({
          owner: find.owner,
          repo: find.repo,
          artifact_id: artifact.id,
          archive_format: 'zip',
          request: { redirect: 'manual', signal }
        })
        const location = redirect.headers.location
        if (redirect.status !== 302 || !location) throw new UnreadableAnswerError(`the artifact download answered ${redirect.status} without a redirect`)
        const response = await (options.fetch ?? fetch)(location, { signal })
        if (!response.ok) throw Object.assign(new Error(`blob storage answered ${response.status}`), { status: response.status })
        if (Number(response.headers.get('content-length') ?? 0) > MAX_MANIFEST_ZIP_BYTES) throw new Error('the manifest artifact is too large to be a manifest')
        const zip = Buffer.from(await response.arrayBuffer())
        const digest = `sha256:${createHash('sha256').update(zip).digest('hex')}`
        if (artifact.digest && artifact.digest !== digest) throw new UnreadableAnswerError("the download does not match the artifact's digest (cut short or garbled)")
        let entry: Buffer | undefined
        try {
          entry = readZipEntry(zip, MANIFEST_FILE)
        } catch (error) {
          throw new UnreadableAnswerError((error as Error).message)
        }
        if (!entry) throw new ManifestContentError(`it holds no ${MANIFEST_FILE}`)
        const content = entry.toString('utf8')
        try {
          JSON.parse(content)
        } catch (error) {
          // Verified bytes that are not JSON are the manifest's fault; unverified ones may be a garbled download.
          if (artifact.digest) throw new ManifestContentError(`its ${MANIFEST_FILE} is not JSON (${(error as Error).message})`)
          throw new UnreadableAnswerError(`its ${MANIFEST_FILE} is not JSON`)
        }
        return content
      },
      options.limits ?? DEFAULT_LIMITS,
      (error, n) => core.debug(`${what}: attempt ${n} failed (${(error as Error).message}); trying again.`)
    )
  } catch (error) {
    if (error instanceof ManifestContentError) throw error
    const status = (error as { status?: number }).status
    const reason = (error as Error).message
    if (isTransient(error)) throw new ArtifactUnavailableError(`Could not download ${candidate.name}: ${reason}. Left for the next run.`, true)
    if (status === 404 || status === 410) throw new ArtifactUnavailableError(`${candidate.name} can no longer be downloaded: it was deleted or has expired.`, false)
    if (status === 401 || status === 403)
      throw new ArtifactUnavailableError(`Could not download ${candidate.name}: github-token needs the actions: read permission (${status}).`, false)
    throw new ArtifactUnavailableError(`Could not download ${candidate.name}: ${reason}.`, false)
  }
  return JSON.parse(text)
}

/** Records in the local stand-in that were not collected yet. */
export async function findPendingLocal(env: NodeJS.ProcessEnv = process.env): Promise<ManifestCandidate[]> {
  const dir = path.join(localStateDir(env), 'manifests')
  if (!existsSync(dir)) return []
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
  return pendingSubmissions(names.map((f) => ({ name: f.slice(0, -'.json'.length), file: path.join(dir, f) })))
}

/** Marks a local submission collected by moving its records aside, as a results artifact does on GitHub. */
export async function markLocalCollected(candidate: Pick<ManifestCandidate, 'tag'>, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = path.join(localStateDir(env), 'manifests')
  const done = path.join(dir, 'collected')
  await mkdir(done, { recursive: true })
  for (const f of await readdir(dir)) {
    if (f.endsWith('.json') && parseArtifactName(f.slice(0, -'.json'.length))?.tag === candidate.tag) await rename(path.join(dir, f), path.join(done, f))
  }
}
