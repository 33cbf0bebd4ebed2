import * as core from '@actions/core'
import path from 'node:path'
import { rm, writeFile } from 'node:fs/promises'
import type { Anthropic } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import { makeTempDir, sha256File } from '../paths/index.js'
import type { Problem } from '../sources/types.js'
import { describeError, type MessageBatch } from '../anthropic/client.js'
import { waitForBatches } from '../anthropic/wait.js'
import { ResultCollector } from '../results/collect.js'
import { writeDataOutputs, type PreviousRows } from '../results/data-output.js'
import { keepResults } from '../results/results-artifact.js'
import { loadPreviousRows, recordResults } from '../state/lock-results.js'
import { readLock } from '../state/lock.js'
import { formatUsd } from '../cost/cost.js'
import { annotate, fail, warn } from '../report/annotations.js'
import { reportResults } from '../report/failures.js'
import { submissionSummary } from '../report/submission-summary.js'
import { setOutputs } from '../report/outputs.js'
import { escape } from '../report/summary.js'
import { table } from '../report/html.js'
import { artifactLink } from '../report/links.js'
import { writeJobSummary } from '../report/summary-file.js'
import { planFromManifest, resultsName, type BatchRef, type Manifest } from '../state/manifest.js'
import { ArtifactUnavailableError, artifactServiceAvailable, downloadManifest, ManifestContentError, resultsExist, type ManifestCandidate } from '../state/artifacts.js'
import { reconcile } from '../state/journal.js'
import { withRetry } from '../anthropic/retry.js'
import { openResults } from '../anthropic/results.js'
import { tagOf } from '../plan/custom-ids.js'
import { gather, recordedBatches } from './gather.js'
import { readPlan } from './read-plan.js'
import { discover, failWith, requireClient, RESULTS_KEPT_MS, WARN_BEFORE_MS, type Find } from './common.js'
import type { Plan } from '../plan/plan.js'
import { openPullRequest, preparePullRequest } from '../github/pull-request.js'
import { checkBranchOwned } from '../github/branch.js'
import { githubClient } from '../github/octokit.js'
import { info } from '../report/log.js'

/** Set by cancel: how long to wait for the canceled batches to end. */
export interface Canceling {
  waitUntil: number
}

/** What became of one submission in this run, for the log, the summary and the outputs. */
interface Outcome {
  batchId: string
  state: 'collected' | 'in progress' | 'refused' | 'rejected' | 'closed' | 'lost' | 'failed'
  detail: string
  counts?: ResultCollector['counts']
  cost?: number
  pullRequest?: string
  files?: string[]
  /** What the user should do about it, when anything. */
  next?: string
  /** Tokens of the succeeded requests, for the summary's tokens per request. */
  tokens?: { input: number; output: number }
  /** The results artifact kept for it (its id, when the artifact service gave one). */
  artifact?: { name: string; id?: number }
}

/**
 * collect: finds the submissions whose results are not collected yet, and for each whose batches
 * have all ended, writes the results as submit does, keeps them as a results artifact (which also
 * marks the submission collected) and, when asked, opens or updates a pull request.
 * `canceling` is cancel's: wait for the canceled batches to end, and count their canceled requests
 * as done on purpose, not as failures (errored and expired ones still are).
 */
export async function collect(inputs: Inputs, problems: Problem[], canceling?: Canceling): Promise<void> {
  const client = requireClient(inputs, problems)
  if (!client) return failWith(problems)
  const { candidates, all, find } = await discover(inputs, problems)
  if (problems.length) return failWith(problems)
  if (inputs.pr.open && inputs.pr.branch && find) {
    // A branch the action may not write to is refused before any file is written.
    try {
      const octokit = await githubClient(find.token)
      const { baseSha } = await preparePullRequest(octokit, { owner: find.owner, repo: find.repo, base: inputs.pr.base, branch: inputs.pr.branch })
      const head = await octokit.rest.git.getRef({ owner: find.owner, repo: find.repo, ref: `heads/${inputs.pr.branch}` }).catch((error: { status?: number }) => {
        if (error.status === 404) return undefined
        throw error
      })
      if (head) await checkBranchOwned(octokit, find.owner, find.repo, inputs.pr.branch, head.data.object.sha, baseSha)
    } catch (error) {
      return failWith([{ message: `Input pr-branch: ${describeError(error)}` }])
    }
  }
  // A batch-id that no record names: rebuilt from the checkout, proved by its result ids.
  const rebuild = inputs.batchId && inputs.batchId !== 'all' && !candidates.length ? inputs.batchId : undefined

  const temp = await makeTempDir('claude-batch-collect-')
  const outcomes: Outcome[] = []
  const written = new Map<Outcome, Written>()
  try {
    if (rebuild) {
      try {
        const { outcome, keep } = await core.group(`Batch ${rebuild}`, () => collectByBatch(client, rebuild, all, inputs, find, temp, canceling))
        outcomes.push(outcome)
        if (keep) written.set(outcome, keep)
      } catch (error) {
        outcomes.push(failed(rebuild, error))
      }
    }
    for (const candidate of candidates) {
      if (candidate.untrusted) {
        outcomes.push({ batchId: candidate.batchId ?? candidate.name, state: 'refused', detail: `Ignored ${candidate.name}: ${candidate.untrusted}.` })
        continue
      }
      try {
        const { outcome, keep } = await core.group(`Submission ${candidate.batchId ?? candidate.name}`, () => collectOne(client, candidate, inputs, find, temp, canceling))
        outcomes.push(outcome)
        if (keep) written.set(outcome, keep)
      } catch (error) {
        // One submission's trouble must not stop the others.
        outcomes.push(failed(candidate.batchId ?? candidate.name, error))
      }
    }
    // Another collect (outside this workflow's concurrency group, or a re-run) may have finished a
    // submission meanwhile: it is not opened or uploaded twice.
    await dropCollectedElsewhere(written, find)
    if (inputs.pr.open) await pullRequests(written, inputs, find)
    // Last, because the results artifact marks a submission collected: anything that failed before
    // it (the pull request, say) is tried again by the next run, which updates the same branch.
    await dropCollectedElsewhere(written, find)
    for (const [outcome, w] of written) {
      try {
        outcome.artifact = { name: w.resultsName, id: await keepWritten(w, inputs, temp) }
      } catch (error) {
        Object.assign(outcome, failed(outcome.batchId, error))
      }
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
  await report(outcomes, inputs, !!canceling)
}

async function dropCollectedElsewhere(written: Map<Outcome, Written>, find: Find | undefined): Promise<void> {
  if (!find || !artifactServiceAvailable()) return
  const octokit = await githubClient(find.token)
  for (const [outcome, w] of written) {
    if (!(await resultsExist(octokit, find.owner, find.repo, w.resultsName))) continue
    written.delete(outcome)
    outcome.state = 'in progress'
    outcome.detail = 'Collected by another run meanwhile; left to it.'
  }
}

/** A submission whose results were written, waiting for its pull request and its results artifact. */
interface Written {
  tag: string
  /** The results artifact that marks it collected: the submission's, or one batch's when rebuilt without a record. */
  resultsName: string
  /** Undefined when the submission was rebuilt from the checkout. */
  candidate?: ManifestCandidate
  manifest: Pick<Manifest, 'run' | 'commit' | 'createdAt'>
  summary: string
  files: string[]
  resultsFile: string
  /** Outputs removed by prune, removed from the pull request's branch too. */
  deleted?: string[]
}

async function collectOne(
  client: Anthropic,
  candidate: ManifestCandidate,
  inputs: Inputs,
  find: Find | undefined,
  temp: string,
  canceling?: Canceling
): Promise<{ outcome: Outcome; keep?: Written }> {
  const name = candidate.batchId ?? candidate.name
  let manifest: Manifest
  let plan: Plan
  let raw: unknown
  try {
    raw = await downloadManifest(candidate, find)
  } catch (error) {
    if (error instanceof ManifestContentError)
      return { outcome: { batchId: name, state: 'rejected', detail: `Rejected ${candidate.name}: ${error.message}; nothing was written from it.` } }
    // Not a verdict on the record: the next run tries again.
    const detail = error instanceof ArtifactUnavailableError ? error.message : `Could not download ${candidate.name}: ${describeError(error)}. Left for the next run.`
    return { outcome: { batchId: name, state: 'failed', detail, next: TRY_AGAIN } }
  }
  try {
    ;({ manifest, plan } = await planFromManifest(raw, inputs.workspace, inputs.outputDirSet ? inputs.outputDir : undefined))
    const repository = process.env.GITHUB_REPOSITORY
    if (repository && manifest.repository !== repository) throw new Error(`it belongs to ${manifest.repository || 'no repository'}, not ${repository}`)
    if (candidate.artifact && manifest.run.id !== candidate.artifact.runId) throw new Error('it claims another workflow run than the one that uploaded it')
    if (manifest.tag !== candidate.tag) throw new Error('its tag is not the one its name carries')
  } catch (error) {
    // A record of this repository that breaks the rules was tampered with or made by a broken
    // version: an error, not a quiet skip.
    return { outcome: { batchId: name, state: 'rejected', detail: `Rejected ${candidate.name}: ${(error as Error).message}; nothing was written from it.` } }
  }

  let refs = manifest.batches
  if (!manifest.complete) {
    // The run stopped between its journal and a complete manifest: its batches are found in the
    // API's list and proved by their result ids before anything is written.
    if (candidate.kind === 'journal' && candidate.artifact && find && !(await runFinished(find, candidate.artifact.runId))) {
      return { outcome: { batchId: name, state: 'in progress', detail: `Its submit run ${candidate.artifact.runId} is still running; left for the next run.` } }
    }
    const found = await reconcile(client, manifest)
    if (found.length)
      info(
        `Found ${found.map((b) => b.id).join(', ')} in the batch list for the unfinished record ${candidate.name}; they are used only if their result ids prove them this submission's.`
      )
    refs = [...refs, ...found]
  }
  return finish(client, { tag: manifest.tag, name, candidate, manifest, plan, refs }, inputs, temp, canceling)
}

/**
 * collect with a batch-id that no record is named after: a later batch of a split submission, or a
 * submission whose records were never saved or have expired. The batch's results carry its
 * submission's tag; a pending record with that tag is collected as usual. With none, the plan is
 * read again from the checkout, which must be the submission's commit: the tag's second half is a
 * digest of every request's content, so prompts that differ, even under the same file names, are
 * refused before anything is written.
 */
async function collectByBatch(
  client: Anthropic,
  batchId: string,
  records: ManifestCandidate[],
  inputs: Inputs,
  find: Find | undefined,
  temp: string,
  canceling?: Canceling
): Promise<{ outcome: Outcome; keep?: Written }> {
  const batch = await withRetry('read the batch', (o) => client.messages.batches.retrieve(batchId, {}, { ...o, maxRetries: 0 }))
  if (batch.processing_status !== 'ended') {
    return { outcome: { batchId, state: 'in progress', detail: `No manifest is named after it, and it has not ended; run collect with batch-id again once it has.` } }
  }
  let tag: string | undefined
  for await (const line of await openResults(client, batchId)) {
    tag = tagOf(line.custom_id)
    break
  }
  if (!tag) {
    return {
      outcome: { batchId, state: 'rejected', detail: `No manifest names it, and its custom_ids carry no submission tag, so it was not sent by this action; nothing was written.` }
    }
  }
  const record = records.find((c) => c.tag === tag && !c.untrusted)
  if (record) {
    info(`${batchId} belongs to submission ${tag}, recorded in ${record.name}: collecting that submission.`)
    return collectOne(client, record, inputs, find, temp, canceling)
  }
  const problems: Problem[] = []
  const plan = await readPlan(
    inputs,
    path.join(temp, `${tag}.requests.jsonl`),
    tag,
    (p) => problems.push(p),
    () => {}
  )
  if (!problems.length && plan.tag !== tag) {
    return {
      outcome: {
        batchId,
        state: 'failed',
        detail: `No manifest names it, and the prompts in this checkout are not the ones it was sent with (their digest differs), so nothing was written.`,
        next: 'run collect with this batch-id from a checkout of the commit it was submitted from, with the same prompts, data and template inputs'
      }
    }
  }
  if (problems.length) {
    return {
      outcome: {
        batchId,
        state: 'failed',
        detail: `No manifest names it, and the prompts in this checkout cannot be read again (${problems[0]!.message}); check out the commit it was submitted from.`,
        next: 'run collect with this batch-id from a checkout of the commit it was submitted from'
      }
    }
  }
  info(`No manifest names ${batchId}: rebuilt its submission ${tag} from the checkout; its result ids are checked against it before anything is written.`)
  const ref: BatchRef = { id: batchId, chunk: 0, createdAt: batch.created_at, expiresAt: batch.expires_at, verified: false }
  const manifest = { run: { id: 0, attempt: 1, workflow: '', event: '', url: '' }, commit: process.env.GITHUB_SHA ?? '', createdAt: batch.created_at }
  return finish(client, { tag, name: batchId, manifest, plan, refs: [ref], partial: true }, inputs, temp, canceling, [batch])
}

/** The common end of both: wait if asked, read and prove each batch's results, write the outputs. */
async function finish(
  client: Anthropic,
  s: { tag: string; name: string; candidate?: ManifestCandidate; manifest: Written['manifest'] & Partial<Manifest>; plan: Plan; refs: BatchRef[]; partial?: boolean },
  inputs: Inputs,
  temp: string,
  canceling?: Canceling,
  known?: MessageBatch[]
): Promise<{ outcome: Outcome; keep?: Written }> {
  const { name, plan, refs } = s
  if (!refs.length) {
    // Its run has finished and made no batch: closed with an empty results artifact, so that it is
    // not looked at again by every run.
    const resultsFile = path.join(temp, `${s.tag}.jsonl`)
    await writeFile(resultsFile, '')
    // Its submit already failed and said so: closing it is news, not a failure.
    const outcome: Outcome = {
      batchId: name,
      state: 'closed',
      detail: 'Its journal records no batch, and the batch list shows none that it may have made: nothing was sent, and it is closed. Its submit run said why.',
      files: []
    }
    return {
      outcome,
      keep: { tag: s.tag, resultsName: resultsName(s.tag), candidate: s.candidate, manifest: s.manifest, summary: `### ${name}\n\n${outcome.detail}\n`, files: [], resultsFile }
    }
  }
  let batches = await waitForBatches(client, known ?? recordedBatches(refs), {
    deadline: canceling?.waitUntil ?? 0,
    maxIntervalMs: inputs.pollIntervalSeconds * 1000,
    log: info,
    onEnded: async () => {}
  })
  const pending = batches.filter((b) => b.processing_status !== 'ended')
  if (pending.length) {
    const expires = pending.map((b) => b.expires_at).sort()[0]!
    const done = batches.length - pending.length
    return {
      outcome: { batchId: name, state: 'in progress', detail: `${done} of ${batches.length} batch(es) ended; left for the next run. Unfinished requests expire at ${expires}.` }
    }
  }

  const lost = batches.filter((b) => b.archived_at || Date.parse(b.created_at) + RESULTS_KEPT_MS < Date.now())
  const notes: string[] = []
  const resultsFile = path.join(temp, `${s.tag}.jsonl`)
  const collector = await ResultCollector.create({ plan, workspace: inputs.workspace, resultsPath: resultsFile, prices: inputs.prices })
  let gathered
  try {
    gathered = await gather(client, plan, refs, collector, {
      deadline: 0,
      maxIntervalMs: inputs.pollIntervalSeconds * 1000,
      known: batches,
      skip: new Set(lost.map((b) => b.id)),
      anyRequests: s.partial
    })
    const mismatch = gathered.failed.find((f) => /do not match/.test(f.message))
    if (mismatch) {
      // The record is fine; the results are not what was sent. Keep the record: it is the only one of a paid batch.
      const next = 'nothing was written from a batch whose results do not match what was sent; keep its records (they are the only ones of a paid batch) and report it'
      return { outcome: { batchId: name, state: 'failed', detail: `${mismatch.id}: ${mismatch.message}`, next } }
    }
    const failedRead = gathered.failed[0]
    if (failedRead) {
      const batch = batches.find((b) => b.id === failedRead.id)!
      const deadline = Date.parse(batch.created_at) + RESULTS_KEPT_MS
      const soon = deadline - Date.now() < WARN_BEFORE_MS ? ` Collect them before ${new Date(deadline).toISOString().slice(0, 10)}, when the API deletes them.` : ''
      return {
        outcome: { batchId: name, state: 'failed', detail: `Could not read the results of ${failedRead.id}: ${failedRead.message}. Left for the next run.${soon}`, next: TRY_AGAIN }
      }
    }
    if (!gathered.settled && !s.partial && !lost.length) {
      return { outcome: { batchId: name, state: 'in progress', detail: 'A batch that may carry its requests is still running; left for the next run.' } }
    }
    const previous = await previousRows(plan, inputs)
    if (!lost.length && collector.collectedChunks.size === plan.chunks.length) {
      await writeDataOutputs(
        plan,
        collector,
        inputs.workspace,
        (d) => (s.manifest.dataOutputs ? dataFileChanged(s.manifest as Manifest, d.source, inputs.workspace, notes) : Promise.resolve(false)),
        previous
      )
    }
    if (inputs.lockFile) {
      // What prune removed at submit is removed from this checkout too, and from the pull request.
      for (const file of plan.pruned?.files ?? []) await rm(path.join(inputs.workspace, file), { force: true })
      // The lock is updated with what was written, and travels with it (results artifact, pull request).
      const lockFile = await recordResults(plan, collector, inputs.workspace, inputs.lockFile, previous, plan.pruned?.keys)
      if (lockFile) collector.written.add(lockFile)
    }
  } finally {
    await collector.close()
  }
  batches = batches.filter((b) => !gathered.notOurs.some((n) => n.id === b.id))
  for (const n of gathered.notOurs) notes.push(`${n.id} was found in the batch list but is not this submission's (${n.reason}); nothing was written from it.`)
  const unsent = s.partial ? 0 : gathered.unsent.reduce((n, c) => n + plan.chunks[c]!.end - plan.chunks[c]!.start, 0)
  annotate('error', gathered.unwritten, 'Output not written')
  if (gathered.unwritten.length)
    notes.push(`${gathered.unwritten.length} reply(ies) could not be written (annotated on their sources); their text is in results.jsonl of the results artifact.`)
  if (unsent) notes.push(`${unsent} request(s) were never sent: run submit again to send them.`)

  const files = [...collector.written].sort()
  const detail = lost.length
    ? `The results of ${lost.map((b) => b.id).join(', ')} were deleted by the API (29 days after creation) and are lost.`
    : `${collector.counts.succeeded} succeeded, ${collector.counts.errored + collector.counts.expired + collector.counts.canceled} did not; ${files.length} file(s) written.`
  const state: Outcome['state'] = lost.length || unsent || gathered.unwritten.length ? 'lost' : 'collected'
  const next =
    unsent || lost.length
      ? SEND_AGAIN
      : gathered.unwritten.length
        ? 'fix the annotated output paths and run submit again for those requests (their text is in results.jsonl of the results artifact)'
        : undefined
  const t = collector.costs.tokens
  const tokens = { input: t.input + t.cacheRead + t.cacheWrite, output: t.output }
  const outcome: Outcome = {
    batchId: batches[0]?.id ?? name,
    state,
    detail: [detail, ...notes].join(' '),
    counts: collector.counts,
    cost: collector.costs.batch,
    tokens,
    files,
    next
  }
  const failures = reportResults(plan, collector, inputs.failOnError ? 'error' : 'warning', { canceledOnPurpose: !!canceling })
  const summary = submissionSummary(
    s.manifest,
    { batchId: outcome.batchId, batchIds: batches.map((b) => b.id), detail: outcome.detail, counts: outcome.counts!, cost: outcome.cost ?? 0, files: outcome.files?.length ?? 0 },
    failures
  )

  return {
    outcome,
    keep: {
      tag: s.tag,
      resultsName: s.partial ? `${resultsName(s.tag)}-${name}` : resultsName(s.tag),
      candidate: s.candidate,
      manifest: s.manifest,
      summary,
      files,
      resultsFile,
      deleted: plan.pruned?.files ?? []
    }
  }
}

/** Whether the run that wrote a journal has finished: until it has, its submit may still be creating. */
async function runFinished(find: Find, runId: number): Promise<boolean> {
  const { data } = await (await githubClient(find.token)).rest.actions.getWorkflowRun({ owner: find.owner, repo: find.repo, run_id: runId })
  return data.status === 'completed'
}

// What to do about requests that were never sent, or whose results the API deleted.
const SEND_AGAIN = 'run submit again to send the requests that were never sent or whose results are lost'
const TRY_AGAIN = 'the next collect tries again; if it keeps failing, the annotation says why'

function failed(batchId: string, error: unknown): Outcome {
  return { batchId, state: 'failed', detail: `Collecting failed: ${describeError(error)}. Left for the next run.`, next: TRY_AGAIN }
}

/**
 * One pull request per submission on `claude-batch/<batch id>`; or, when pr-branch names a branch,
 * one pull request on it for everything collected in this run (otherwise each would replace the
 * last). A submission whose pull request fails is not marked collected.
 */
async function pullRequests(written: Map<Outcome, Written>, inputs: Inputs, find: Find | undefined): Promise<void> {
  const entries = [...written].filter(([, w]) => w.files.length)
  const groups = inputs.pr.branch ? (entries.length ? [entries] : []) : entries.map((e) => [e])
  for (const group of groups) {
    const ids = group.map(([o]) => o.batchId)
    try {
      if (!find) throw new Error('open-pr needs the GitHub API: run collect in a workflow, with github-token')
      const first = group[0]![1].manifest
      const pr = await openPullRequest(await githubClient(find.token), {
        owner: find.owner,
        repo: find.repo,
        workspace: inputs.workspace,
        files: [...new Set(group.flatMap(([, w]) => w.files))].sort(),
        deleted: [...new Set(group.flatMap(([, w]) => w.deleted ?? []))].sort(),
        base: inputs.pr.base,
        branch: inputs.pr.branch ?? `claude-batch/${ids[0]}`,
        title: inputs.pr.title ?? (ids.length === 1 ? `Generated content from Claude batch ${ids[0]}` : `Generated content from ${ids.length} Claude batches`),
        body: group.map(([, w]) => w.summary).join('\n---\n\n'),
        labels: inputs.pr.labels,
        draft: inputs.pr.draft,
        message: `Add results of Claude batch${ids.length > 1 ? 'es' : ''} ${ids.join(', ')}\n\nFrom ${first.run.url || `run ${first.run.id}`} at ${first.commit.slice(0, 12)}.`
      })
      info(`Pull request ${pr.operation}: ${pr.url}`)
      for (const [outcome] of group) outcome.pullRequest = pr.url
    } catch (error) {
      for (const [outcome] of group) {
        Object.assign(outcome, failed(outcome.batchId, error))
        written.delete(outcome)
      }
    }
  }
}

/**
 * A data file is rewritten row by row from the collector's checkout, so it must be the file that was
 * submitted: otherwise rows and results would not line up. Its results stay in results.jsonl.
 */
async function dataFileChanged(manifest: Manifest, source: string, workspace: string, notes: string[]): Promise<boolean> {
  const expected = manifest.dataOutputs.find((d) => d.source === source)?.sha256
  let actual: string | undefined
  try {
    actual = await sha256File(path.join(workspace, source))
  } catch {
    actual = undefined
  }
  if (expected && actual === expected) return false
  const why = actual ? 'has changed since it was submitted' : 'is not in this checkout'
  notes.push(`${source} ${why}, so its output file was not written; its results are in results.jsonl of the results artifact.`)
  warn(`${source} ${why}, so its output file was not written: the rows would not line up with the results. Its results are in the results artifact.`, { file: source })
  return true
}

/** The previous outputs of a data file's unchanged rows, from the checkout's generated file and lock. */
async function previousRows(plan: Plan, inputs: Inputs): Promise<PreviousRows> {
  if (!inputs.lockFile || !plan.dataOutputs.some((d) => d.kept?.length)) return new Map()
  return loadPreviousRows(plan, inputs.workspace, await readLock(inputs.workspace, inputs.lockFile))
}

/** A submission rebuilt from the checkout (no record) has nothing in the local stand-in to move aside. */
async function keepWritten(w: Written, inputs: Inputs, temp: string): Promise<number | undefined> {
  if (!w.candidate && !artifactServiceAvailable()) return undefined
  const a = { tag: w.tag, name: w.resultsName, resultsFile: w.resultsFile, summary: w.summary, workspace: inputs.workspace, files: w.files, retentionDays: inputs.retentionDays }
  return keepResults(a, path.join(temp, w.resultsName))
}

async function report(outcomes: Outcome[], inputs: Inputs, canceledOnPurpose: boolean): Promise<void> {
  const totals = { succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  for (const o of outcomes) if (o.counts) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += o.counts[k]
  for (const o of outcomes) info(`${o.batchId}: ${o.state}. ${o.detail}`)
  const refused = outcomes.filter((o) => o.state === 'refused')
  annotate(
    'warning',
    refused.map((o) => ({ message: o.detail })),
    'Manifest ignored'
  )
  annotate(
    'error',
    outcomes.filter((o) => o.state === 'lost' || o.state === 'failed').map((o) => ({ message: o.detail })),
    'Batch results'
  )
  annotate(
    'error',
    outcomes.filter((o) => o.state === 'rejected').map((o) => ({ message: o.detail })),
    'Submission record rejected'
  )

  const collected = outcomes.filter((o) => o.state === 'collected' || o.state === 'lost')
  const files = collected.flatMap((o) => o.files ?? []).sort()
  const pr = outcomes.find((o) => o.pullRequest)?.pullRequest
  setOutputs({
    status: outcomes.some((o) => o.state === 'in progress') ? 'in_progress' : 'ended',
    'batch-ids': collected.map((o) => o.batchId),
    'batch-id': collected[0]?.batchId,
    ...totals,
    'output-files': files,
    'cost-usd': collected.reduce((sum, o) => sum + (o.cost ?? 0), 0).toFixed(4),
    'pull-request-url': pr,
    // One results artifact per submission collected: the first, as batch-id is, and all of them.
    'results-artifact-id': collected.find((o) => o.artifact?.id !== undefined)?.artifact?.id,
    'results-artifact-ids': collected.flatMap((o) => (o.artifact?.id === undefined ? [] : [o.artifact.id]))
  })
  await writeJobSummary(
    core.summary
      .addHeading('Claude batch: collect', 2)
      .addRaw(
        `<p>${outcomes.length ? `${collected.length} collected, ${outcomes.filter((o) => o.state === 'in progress').length} still in progress, ${refused.length} ignored.` : 'Nothing to collect.'}</p>`,
        true
      )
      .addRaw(outcomeTable(outcomes), true)
  )
  // Requests canceled by `command: cancel` are what was asked for, not failures.
  const failed = totals.errored + totals.expired + (canceledOnPurpose ? 0 : totals.canceled)
  if (outcomes.some((o) => o.state === 'rejected')) {
    fail(
      "A submission record was rejected and nothing was written from it: it names paths or batches this repository's submissions cannot have. Find out who uploaded it (the annotation names it), and delete the artifact."
    )
  } else if (outcomes.some((o) => o.state === 'lost' || o.state === 'failed')) {
    const next = [...new Set(outcomes.filter((o) => o.state === 'lost' || o.state === 'failed').map((o) => o.next ?? TRY_AGAIN))]
    fail(`Not everything could be collected (see the annotations): ${next.join('; ')}.`)
  } else if (failed && inputs.failOnError)
    fail(`${failed} request(s) did not succeed; everything else was written. Each is annotated on its source; set fail-on-error: false to let the step pass.`)
}

/**
 * One row a submission: what became of it, what it cost, its tokens per succeeded request, and the
 * results artifact that keeps its raw results (results.jsonl) and files after the job.
 */
function outcomeTable(outcomes: Outcome[]): string {
  const per = (n: number, d: number) => (d ? Math.round(n / d).toLocaleString('en-US') : '—')
  const rows = outcomes.map((o) => [
    `<code>${escape(o.batchId)}</code>`,
    o.state,
    o.counts ? `${o.counts.succeeded} / ${o.counts.errored + o.counts.expired + o.counts.canceled}` : '—',
    o.cost !== undefined ? formatUsd(o.cost) : '—',
    o.tokens && o.counts ? `${per(o.tokens.input, o.counts.succeeded)} / ${per(o.tokens.output, o.counts.succeeded)}` : '—',
    escape(o.detail) + (o.pullRequest ? ` <a href="${escape(o.pullRequest)}">pull request</a>` : ''),
    o.artifact ? `${artifactLink(o.artifact.name, o.artifact.id)} (<code>results.jsonl</code>, <code>files/</code>)` : '—'
  ])
  const head = ['Batch', 'State', 'Succeeded / not', 'Cost (batch prices)', 'Tokens per request (input / output)', 'Details', 'Results artifact']
  return table(head, rows, `${outcomes.length} submissions`)
}
