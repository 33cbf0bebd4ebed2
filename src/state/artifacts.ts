import path from 'node:path'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import type { getOctokit } from '@actions/github'
import { MANIFEST_FILE, parseArtifactName } from './manifest.js'

type Octokit = ReturnType<typeof getOctokit>

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

/**
 * Uploads `files` (all under `root`) as an artifact. The artifact client is loaded only here: it
 * is the heaviest module of the action and most runs of a step never need it.
 */
export async function uploadArtifact(name: string, files: string[], root: string, retentionDays: number): Promise<number | undefined> {
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const result = await new DefaultArtifactClient().uploadArtifact(name, files, root, { retentionDays })
  return result.id
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
  artifact?: { id: number; runId: number; createdAt: string }
  /** Set for local records. */
  file?: string
  /** Why it must not be used, when it must not. */
  untrusted?: string
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
 * Lists the repository's submissions that have no results artifact yet, in one paginated listing
 * (not one call per batch). A record from a run whose head repository is not this one (a pull
 * request from a fork) is marked untrusted: an artifact's name is not proof of who made it.
 */
export async function findPendingArtifacts(octokit: Octokit, owner: string, repo: string): Promise<ManifestCandidate[]> {
  const artifacts = await octokit.paginate(octokit.rest.actions.listArtifactsForRepo, { owner, repo, per_page: 100 })
  return pendingSubmissions(
    artifacts
      .filter((a) => !a.expired)
      .map((a) => {
        const run = a.workflow_run
        const fork = run && run.head_repository_id !== undefined && run.head_repository_id !== run.repository_id
        return {
          name: a.name,
          artifact: { id: a.id, runId: run?.id ?? 0, createdAt: a.created_at ?? '' },
          untrusted: !run?.id ? 'it names no workflow run' : fork ? 'it was made by a run from another repository (a pull request from a fork)' : undefined
        }
      })
  )
}

/** Downloads a manifest artifact from the run that made it and returns its parsed content. */
export async function downloadManifest(
  candidate: ManifestCandidate,
  find: { token: string; owner: string; repo: string },
  into: string
): Promise<unknown> {
  if (candidate.file) return JSON.parse(await readFile(candidate.file, 'utf8'))
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const dir = path.join(into, candidate.name)
  await new DefaultArtifactClient().downloadArtifact(candidate.artifact!.id, {
    path: dir,
    findBy: { token: find.token, workflowRunId: candidate.artifact!.runId, repositoryOwner: find.owner, repositoryName: find.repo }
  })
  return JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'))
}

/** Records in the local stand-in that were not collected yet. */
export async function findPendingLocal(env: NodeJS.ProcessEnv = process.env): Promise<ManifestCandidate[]> {
  const dir = path.join(localStateDir(env), 'manifests')
  if (!existsSync(dir)) return []
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
  return pendingSubmissions(names.map((f) => ({ name: f.slice(0, -'.json'.length), file: path.join(dir, f) })))
}

/** Marks a local submission collected by moving its records aside, as a results artifact does on GitHub. */
export async function markLocalCollected(candidate: ManifestCandidate, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = path.join(localStateDir(env), 'manifests')
  const done = path.join(dir, 'collected')
  await mkdir(done, { recursive: true })
  for (const f of await readdir(dir)) {
    if (f.endsWith('.json') && parseArtifactName(f.slice(0, -'.json'.length))?.tag === candidate.tag) await rename(path.join(dir, f), path.join(done, f))
  }
}
