import * as core from '@actions/core'
import path from 'node:path'
import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import type { Limits, Plan } from '../plan/plan.js'
import { selectRequests, type Selection } from '../plan/skip.js'
import { checkWritable } from '../paths/output.js'
import { keyPath, LockFileError, readLock, writeLock, type Lock } from '../state/lock.js'
import { rm } from 'node:fs/promises'
import { artifactServiceAvailable, downloadManifest, findPendingArtifacts, findPendingLocal, type ManifestCandidate } from '../state/artifacts.js'
import type { Manifest } from '../state/manifest.js'
import { describeError } from '../anthropic/client.js'
import { esc, info } from '../report/log.js'
import { warn } from '../report/annotations.js'

export interface PayOnce extends Selection {
  /** The lock as read; undefined when the lock file is off. */
  lock?: Lock
  /** Outputs deleted by prune, and the lock keys it removed. */
  pruned?: string[]
  prunedKeys?: string[]
}

/**
 * Submit's "pay once" step: reads the lock file and the pending submissions, and reduces the plan to
 * what must be sent. Problems (a lock file that cannot be read, or whose path is a source) are
 * reported, and the full plan is returned unchanged.
 */
export async function payOnce(inputs: Inputs, full: Plan, o: { temp: string; limits: Limits; problem: (p: Problem) => void; warning: (p: Problem) => void }): Promise<PayOnce> {
  const off = (): PayOnce => ({
    plan: full,
    split: { new: full.requests.length, changed: 0, missing: 0, regenerated: 0, unchanged: 0, pending: 0, deferred: 0 },
    stale: []
  })
  if (!inputs.lockFile) {
    if (inputs.maxRequests === undefined) return off()
    return selectRequests(full, { workspace: inputs.workspace, maxRequests: inputs.maxRequests, limits: o.limits, spoolPath: path.join(o.temp, 'send.jsonl'), problem: o.problem })
  }
  const lockProblem = await checkLockPath(inputs.workspace, inputs.lockFile, full)
  if (lockProblem) {
    o.problem({ message: `Input lock-file: ${lockProblem}` })
    return off()
  }
  let lock: Lock
  try {
    lock = await readLock(inputs.workspace, inputs.lockFile)
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error
    o.problem({ file: inputs.lockFile, message: error.message })
    return off()
  }
  const pending = inputs.regenerate ? new Set<string>() : await pendingFingerprints(inputs, o.warning)
  const selection = await selectRequests(full, {
    workspace: inputs.workspace,
    lock,
    pending,
    regenerate: inputs.regenerate,
    maxRequests: inputs.maxRequests,
    limits: o.limits,
    spoolPath: path.join(o.temp, 'send.jsonl'),
    problem: o.problem
  })
  const s = selection.split
  info(
    `Lock file ${esc(inputs.lockFile)}: ${lock.size} entr${lock.size === 1 ? 'y' : 'ies'}. To send: ${s.new} new, ${s.changed} changed, ${s.missing} with a deleted output${s.regenerated ? `, ${s.regenerated} regenerated` : ''}; not sent: ${s.unchanged} unchanged, ${s.pending} pending, ${s.deferred} deferred.`
  )
  if (selection.stale.length && inputs.prune && !inputs.dryRun) {
    const pruned = await prune(inputs, full, selection.stale, inputs.lockFile)
    info(
      `Pruned ${selection.stale.length} stale lock entr${selection.stale.length === 1 ? 'y' : 'ies'} and deleted ${pruned.length} output(s): ${pruned.map(esc).join(', ') || 'none'}.`
    )
    return { ...selection, stale: [], pruned, prunedKeys: selection.stale, lock: await readLock(inputs.workspace, inputs.lockFile) }
  }
  if (selection.stale.length) {
    warn(
      `${selection.stale.length} lock entr${selection.stale.length === 1 ? 'y has' : 'ies have'} no source any more (listed in the job summary); prune: true removes them and their outputs.`
    )
  }
  return { ...selection, lock }
}

/**
 * prune: the outputs of stale entries are deleted and the entries removed. Only files under output-dir
 * are deleted, after the output path rules: the lock is a file anyone with a pull request can edit,
 * and must not be a way to delete other files of the repository. A stale row of a data file still
 * produced only loses its entry (the file is rebuilt without it when next written).
 */
async function prune(inputs: Inputs, full: Plan, stale: string[], lockFile: string): Promise<string[]> {
  const dataPaths = new Set(full.dataOutputs.map((d) => d.path))
  const sources = new Set(full.sources ?? [])
  // With output-dir `.` nothing is under a folder of the action's own: prune deletes nothing then.
  const under = inputs.outputDir === '.' ? undefined : `${inputs.outputDir.replace(/\/$/, '')}/`
  const deleted: string[] = []
  for (const key of stale) {
    const target = keyPath(key)
    if ((key !== target && dataPaths.has(target)) || deleted.includes(target)) continue
    if (under === undefined || !target.startsWith(under) || sources.has(target)) {
      warn(`prune: ${esc(target)} is not under output-dir (${esc(inputs.outputDir)}), so only its lock entry was removed; delete the file yourself if it is generated.`)
      continue
    }
    const checked = await checkWritable(inputs.workspace, target)
    if (checked.error !== undefined) {
      warn(`prune: ${esc(checked.error)} Only its lock entry was removed.`)
      continue
    }
    await rm(path.join(inputs.workspace, checked.path), { force: true })
    deleted.push(checked.path)
  }
  await writeLock(inputs.workspace, lockFile, new Map(), stale)
  return deleted.sort()
}

/** The lock file is written like an output: the same path rules, and never over a source or an output. */
async function checkLockPath(workspace: string, lockFile: string, plan: Plan): Promise<string | undefined> {
  const checked = await checkWritable(workspace, lockFile)
  if (checked.error !== undefined) return checked.error
  if (plan.sources?.includes(checked.path)) return `${JSON.stringify(lockFile)} is one of the prompt sources; choose another path for the lock file.`
  if (plan.requests.some((r) => r.output?.path === checked.path)) return `${JSON.stringify(lockFile)} is also a request's output; choose another path for the lock file.`
  return undefined
}

/**
 * Fingerprints of the requests in submissions that have not been collected and whose batches have not
 * expired: sending them again would pay twice. Needs the artifact list (actions: read): without it,
 * a warning, and no request counts as pending.
 */
export async function pendingFingerprints(inputs: Inputs, warning: (p: Problem) => void, now = Date.now()): Promise<Set<string>> {
  const found = new Set<string>()
  const repository = process.env.GITHUB_REPOSITORY
  let candidates: ManifestCandidate[]
  let find = { token: '', owner: '', repo: '' }
  try {
    if (artifactServiceAvailable() && repository) {
      if (!inputs.githubToken) throw Object.assign(new Error('no github-token'), { status: 401 })
      const [owner, repo] = repository.split('/') as [string, string]
      find = { token: inputs.githubToken, owner, repo }
      const { getOctokit } = await import('@actions/github')
      candidates = await findPendingArtifacts(getOctokit(inputs.githubToken), owner, repo)
    } else {
      candidates = await findPendingLocal()
    }
  } catch (error) {
    const status = (error as { status?: number }).status
    const why = status === 401 || status === 403 ? 'github-token needs the actions: read permission' : describeError(error)
    warning({ message: `Could not list the submissions still pending (${why}), so requests sent by a submission not yet collected may be sent again.` })
    return found
  }
  for (const candidate of candidates) {
    if (candidate.untrusted || candidate.kind !== 'manifest') continue
    let manifest: Manifest
    try {
      manifest = (await downloadManifest(candidate, find)) as Manifest
    } catch (error) {
      core.debug(`Pending check: skipped ${candidate.name}: ${describeError(error)}`)
      continue
    }
    if (!manifest || !Array.isArray(manifest.requests) || !Array.isArray(manifest.batches) || !Array.isArray(manifest.chunks)) continue
    if (repository && manifest.repository !== repository) continue
    // Only the chunks a live batch carries: an expired batch's requests are not coming back.
    const live = new Set(manifest.batches.filter((b) => Date.parse(b?.expiresAt) > now).map((b) => b.chunk))
    let start = 0
    manifest.chunks.forEach((size, chunk) => {
      if (live.has(chunk)) {
        for (let i = start; i < start + size; i++) {
          const fp = manifest.requests[i]?.[7]
          if (typeof fp === 'string') found.add(fp)
        }
      }
      start += size
    })
  }
  if (found.size) info(`${found.size} request(s) are in submissions not collected yet.`)
  return found
}
