import path from 'node:path'
import { copyFile, link as hardLink, mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises'
import { artifactServiceAvailable, markLocalCollected, uploadArtifact, type ArtifactUploader } from '../state/artifacts.js'
import { info } from '../report/log.js'

/** What a collected submission keeps in its results artifact. */
export interface ResultsArtifact {
  /** The artifact's name (unique within a run). */
  name: string
  /** The raw result lines; moved into the artifact's folder, unless `keepResultsFile`. */
  resultsFile: string
  /** The results file is a step output that must outlive the upload (submit's `results-file`): linked, not moved. */
  keepResultsFile?: boolean
  /** The Markdown summary, also the pull request's body. */
  summary: string
  workspace: string
  /** Workspace-relative paths of the outputs written (and the lock file). */
  files: readonly string[]
  retentionDays: number
}

/**
 * Uploads the results artifact as users download it: `results.jsonl`, `summary.md` and, under
 * `files/`, every output at its workspace path. The outputs are uploaded from where they were
 * written, never copied (a copy of 100,000 files took most of a collect): the artifact client names
 * each file by its path below the root folder it is given, so that folder holds the results file,
 * the summary and `files`, a link to the workspace. Only the listed files are read through it.
 * `folder` must be on the results file's file system, and new: it is made here.
 */
export async function uploadResults(a: ResultsArtifact, folder: string, options: { client?: ArtifactUploader } = {}): Promise<number | undefined> {
  await mkdir(folder, { recursive: true })
  const results = path.join(folder, 'results.jsonl')
  const summary = path.join(folder, 'summary.md')
  if (!a.keepResultsFile) await rename(a.resultsFile, results)
  else await hardLink(a.resultsFile, results).catch(() => copyFile(a.resultsFile, results))
  await writeFile(summary, a.summary)
  const link = path.join(folder, 'files')
  // A junction on Windows: it needs no privilege there, and is ignored elsewhere.
  if (a.files.length) await symlink(path.resolve(a.workspace), link, 'junction')
  try {
    return await uploadArtifact(a.name, [results, summary, ...a.files.map((f) => path.join(link, f))], folder, a.retentionDays, options)
  } finally {
    // Gone before anything removes the folder, so that nothing can reach the workspace through it.
    if (a.files.length) await unlink(link)
  }
}

/**
 * Marks a submission collected, so that no later collect writes it, opens its pull request or counts
 * its requests as pending again: its results artifact, named by its tag, holds its results, summary
 * and outputs. Without an artifact service (a local run) nothing is uploaded, so nothing is staged
 * either: the local stand-in's records of the tag are moved aside instead. Returns the artifact's id.
 */
export async function keepResults(a: ResultsArtifact & { tag: string }, folder: string): Promise<number | undefined> {
  if (!artifactServiceAvailable()) {
    await markLocalCollected(a)
    return undefined
  }
  const artifactId = await uploadResults(a, folder)
  info(`Kept the results as artifact ${a.name} (id ${artifactId}).`)
  return artifactId
}
