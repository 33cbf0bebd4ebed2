import * as core from '@actions/core'
import path from 'node:path'
import { mkdir, rm } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import type { Anthropic } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import { makeTempDir, sha256File } from '../paths/index.js'
import type { Problem } from '../sources/types.js'
import type { Plan } from '../plan/plan.js'
import { readPlan } from './read-plan.js'
import { cachedBody } from '../plan/cache.js'
import { checkModels, estimateCost, type Estimate } from '../preflight.js'
import { createClient, describeError, type MessageBatch } from '../anthropic/client.js'
import { createBatch, CreateError, type Created } from '../anthropic/create.js'
import { duration } from '../anthropic/wait.js'
import { newTag } from '../plan/custom-ids.js'
import { collectedHere, gather, type Gathered } from './gather.js'
import { ResultCollector } from '../results/collect.js'
import { writeDataOutputs, type PreviousRows } from '../results/data-output.js'
import { payOnce, type PayOnce } from './pay-once.js'
import { retryFailed } from './retry-failed.js'
import { limits } from './read-plan.js'
import type { Split } from '../plan/skip.js'
import { loadPreviousRows, recordResults } from '../state/lock-results.js'
import { formatUsd } from '../cost/cost.js'
import { BATCH_DISCOUNT } from '../cost/prices.js'
import { annotate, fail, reportError, warn } from '../report/annotations.js'
import { failedRequests, reportResults } from '../report/failures.js'
import { submissionSummary } from '../report/submission-summary.js'
import { keepResults } from '../results/results-artifact.js'
import { artifactServiceAvailable } from '../state/artifacts.js'
import { setOutputs } from '../report/outputs.js'
import { writeSummary, type SummaryInput } from '../report/summary.js'
import { batchRef, buildManifest, journalName, manifestName, resultsName, type BatchRef, type Manifest } from '../state/manifest.js'
import { saveRecord } from '../state/journal.js'
import { esc, info } from '../report/log.js'

/**
 * submit: prompt files in, batches out, and, when asked to wait, results written back.
 * Everything that can be checked is checked before the first batch is created.
 */
export async function submit(inputs: Inputs, problems: Problem[]): Promise<void> {
  const warnings: Problem[] = []
  const problem = (p: Problem) => problems.push(p)
  const warning = (p: Problem) => warnings.push(p)

  if (!inputs.apiKey && !inputs.dryRun) {
    problem({ message: 'No Anthropic API key: set the anthropic-api-key input (e.g. ${{ secrets.ANTHROPIC_API_KEY }}) or the ANTHROPIC_API_KEY environment variable.' })
  }
  // With a mistake in the inputs (a base URL that is not one, say) the API is not called at all;
  // the prompts are still read, so that every problem is reported at once.
  const client = inputs.apiKey && problems.length === 0 ? createClient({ apiKey: inputs.apiKey, baseURL: inputs.baseURL }) : undefined
  const temp = await makeTempDir('claude-batch-')
  let manifestFailure: string | undefined

  try {
    const full = await core.group('Reading prompts', () => readPlan(inputs, path.join(temp, 'requests.jsonl'), newTag(), problem, warning))
    if (full.requests.length === 0 && problems.length === 0)
      problem({ message: 'The prompt sources produced no requests: add prompt files, data rows or request lines, or point the prompts, data or requests input at them.' })
    // Pay once: only what is new, changed, failed before or deleted is sent (lock file, pending submissions, max-requests).
    const chosen = problems.length ? undefined : await core.group('Checking what is already generated', () => payOnce(inputs, full, { temp, limits: limits(), problem, warning }))
    let plan = chosen?.pruned && chosen.lock ? { ...(chosen.plan ?? full), pruned: { keys: chosen.prunedKeys ?? [], files: chosen.pruned } } : (chosen?.plan ?? full)
    const split = chosen?.split

    let estimate: Estimate | undefined
    if (plan.requests.length) {
      estimate = await core.group('Checking models and estimating cost', async () => {
        let usable = true
        if (client) usable = await checkModels(client, plan, problem, warning, info)
        else if (inputs.dryRun) warning({ message: 'Dry run without an API key: models were not checked and input tokens are approximated.' })
        return usable ? estimateCost(client, plan, inputs.prices, info) : undefined
      })
    }
    if (estimate) {
      logEstimate(estimate)
      checkBudget(estimate, inputs.maxCost, problem)
    }
    setOutputs({
      'request-count': plan.requests.length,
      'unchanged-count': split?.unchanged ?? 0,
      'pending-count': split?.pending ?? 0,
      'deferred-count': split?.deferred ?? 0,
      'estimated-cost-usd': estimate?.batchUsd?.toFixed(4)
    })
    const splitNote = split ? describeSplit(split) : ''

    annotate('warning', warnings)
    if (problems.length) {
      annotate('error', problems)
      await writeSummary({
        headline: `${count(problems.length, 'problem')} found: nothing was submitted.`,
        plan,
        estimate,
        batchIds: [],
        problems,
        warnings,
        dryRun: inputs.dryRun,
        prices: inputs.prices
      })
      fail(`${count(problems.length, 'problem')} found; nothing was submitted. Each is annotated on its file and listed in the job summary.`)
      return
    }
    if (inputs.dryRun) {
      info(`Dry run: ${count(plan.requests.length, 'request')} in ${count(plan.chunks.length, 'batch', 'batches')} would be submitted.${splitNote}`)
      setOutputs({ status: 'dry-run' })
      await writeSummary({
        headline: `Dry run: ${count(plan.requests.length, 'request')} in ${count(plan.chunks.length, 'batch', 'batches')} would be submitted.${splitNote} Nothing was sent.`,
        plan,
        estimate,
        batchIds: [],
        problems,
        warnings,
        dryRun: true,
        stale: chosen?.stale,
        prices: inputs.prices
      })
      return
    }
    if (plan.requests.length === 0) {
      // Everything is generated already, or on its way: nothing is created, and no journal is written.
      const headline = `Up to date: nothing to send.${splitNote}`
      info(headline)
      setOutputs({ status: 'up-to-date', ...(chosen?.prunedKeys?.length && inputs.lockFile ? { 'output-files': [inputs.lockFile] } : {}) })
      await writeSummary({ headline, plan, batchIds: [], problems, warnings, dryRun: false, stale: chosen?.stale, prices: inputs.prices })
      return
    }

    const dataHashes = new Map<string, string>()
    for (const d of plan.dataOutputs) dataHashes.set(d.source, await sha256File(path.join(inputs.workspace, d.source)))
    const startedAt = new Date().toISOString()
    const record = (refs: BatchRef[]) => buildManifest(plan, refs, { outputDir: inputs.outputDir, startedAt, dataHashes })

    // Written before anything is spent: a run that dies after a create still leaves a record that
    // collect can reconcile against the API's list of batches.
    try {
      await core.group('Saving the submission journal', async () => {
        const saved = await saveRecord(journalName(plan.tag), record([]), { temp, retentionDays: inputs.retentionDays })
        info(saved.file ? `Journal written to ${saved.file} (no artifact service here).` : `Journal saved as artifact ${journalName(plan.tag)}.`)
      })
    } catch (error) {
      const message = `Could not save the submission journal (${describeError(error)}), so nothing was submitted: a batch with no record could be paid for and never collected. Run the step again.`
      await writeSummary({ headline: message, plan, estimate, batchIds: [], problems, warnings, dryRun: false, prices: inputs.prices })
      fail(message)
      return
    }

    const created = await core.group('Submitting', () => createBatches(client!, plan))
    // Waves: a create refused for its rate after every retry (the rate limit, or the organisation's
    // queue of batch requests is full) after some batches were made leaves the rest to the next run,
    // which the lock makes send exactly them. The submission is then the batches made.
    if (created.failure?.rateLimited && created.refs.length && inputs.lockFile) {
      const made = Math.max(...created.refs.map((r) => r.chunk)) + 1
      const left = created.unsent
      warn(
        `${created.failure.message.replace(/ Nothing was created\.$/, '')} ${count(left, 'request')} ${left === 1 ? 'is' : 'are'} left for the next run, which sends ${left === 1 ? 'it' : 'them'}: the API takes no more batches for now.`
      )
      plan = { ...plan, requests: plan.requests.slice(0, plan.chunks[made - 1]!.end), chunks: plan.chunks.slice(0, made) }
      setOutputs({ 'request-count': plan.requests.length, 'deferred-count': (split?.deferred ?? 0) + left })
      created.failure = undefined
    }
    const refs = created.refs
    // Saved whatever happened to the creates: every batch made must be reachable by collect.
    const saved = refs.length ? await core.group('Saving the manifest', () => saveManifest(record(refs), inputs, temp)) : undefined
    const batchIds = [...new Set(refs.map((b) => b.id))]

    if (created.failure) {
      const made = refs.length
        ? `${count(batchIds.length, 'batch', 'batches')} ${batchIds.length === 1 ? 'was' : 'were'} made (${batchIds.join(', ')}); ${saved?.ok ? 'the manifest records them and collect will collect them' : `the journal ${journalName(plan.tag)} records this submission and collect will find them`}. `
        : ''
      const spent = created.failure.mayHaveMade
        ? "A batch may have been made by the last create; collect will find it through the journal, and writes nothing that is not provably this submission's. "
        : ''
      const message = `${created.failure.message} ${made}${spent}${count(created.unsent, 'request')} ${created.unsent === 1 ? 'was' : 'were'} not submitted: run submit again once the cause is fixed (it sends everything again).`
      await writeSummary({ headline: message, plan, estimate, batchIds, problems, warnings, dryRun: false, prices: inputs.prices, artifacts: kept(saved) })
      fail(message)
      return
    }
    if (!saved?.ok) {
      // The batches run and the journal records them, but the failure must be seen.
      manifestFailure = `Could not save the manifest: ${saved?.error}. The batches run; the journal artifact ${journalName(plan.tag)} records them, so collect finds them, or collect with batch-id: ${batchIds[0]}.`
    }

    if (inputs.waitMinutes <= 0) {
      await writeSummary({
        headline: `Submitted ${count(batchIds.length, 'batch', 'batches')} of ${count(plan.requests.length, 'request')}; not waiting for results (wait-minutes is 0).${splitNote}`,
        plan,
        estimate,
        batchIds,
        problems,
        warnings,
        dryRun: false,
        stale: chosen?.stale,
        prices: inputs.prices,
        artifacts: kept(saved)
      })
    } else {
      await waitAndCollect(client!, inputs, { plan, estimate, batches: created.batches, refs, manifest: record(refs), warnings, temp, chosen, artifacts: kept(saved) })
    }
    if (manifestFailure) fail(manifestFailure)
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

function logEstimate(e: Estimate): void {
  const cost =
    e.batchUsd === undefined
      ? `unknown (no price for ${e.unpriced.join(', ')})`
      : `at most ${formatUsd(e.batchUsd)} at batch prices (${formatUsd(e.standardUsd!)} at standard prices)`
  info(`Estimated cost: ${cost}; ${e.inputTokens.toLocaleString('en-US')} input tokens (${e.method}), up to ${e.maxOutputTokens.toLocaleString('en-US')} output tokens.`)
}

function checkBudget(e: Estimate, maxCost: number | undefined, problem: (p: Problem) => void): void {
  if (maxCost === undefined) return
  if (e.batchUsd === undefined) {
    problem({ message: `max-cost is set, but no price is known for ${e.unpriced.join(', ')}, so the cost cannot be checked. Add the model to model-prices.` })
  } else if (e.batchUsd > maxCost) {
    problem({
      message: `The estimated cost, up to ${formatUsd(e.batchUsd)}, exceeds max-cost (${formatUsd(maxCost)}). The estimate counts every request's max_tokens as output: lower max-tokens, send fewer prompts, or raise max-cost.`
    })
  } else if (e.cache && e.batchUsd + (e.cache.worstStandardUsd - e.cache.standardUsd) * BATCH_DISCOUNT > maxCost) {
    // The estimate counts on cache hits, which a batch gives only on a best-effort basis: a miss writes the prefix again.
    const worst = e.batchUsd + (e.cache.worstStandardUsd - e.cache.standardUsd) * BATCH_DISCOUNT
    problem({
      message: `The estimated cost is ${formatUsd(e.batchUsd)} if the prompt cache is hit, but up to ${formatUsd(worst)} if requests miss it (cache hits in a batch are best effort, and each miss writes the shared prefix again at twice the input price), which exceeds max-cost (${formatUsd(maxCost)}). Set cache: off, or raise max-cost.`
    })
  }
}

/**
 * Creates one batch per chunk, in order, and stops at the first create that fails: the batches made
 * so far are kept (and recorded by the caller), the rest is reported as not submitted. The batch ids
 * go into the step outputs as soon as they exist, so they are there even when the step then fails.
 */
async function createBatches(client: Anthropic, plan: Plan): Promise<{ refs: BatchRef[]; batches: MessageBatch[]; failure?: CreateError; unsent: number }> {
  const refs: BatchRef[] = []
  const batches: MessageBatch[] = []
  const known = new Set<string>()
  for (const [n, chunk] of plan.chunks.entries()) {
    const items = plan.requests.slice(chunk.start, chunk.end)
    let created: Created
    try {
      created = await createBatch(client, {
        // The spool's bytes, with cache_control on the batch's shared prefixes (plan/cache.ts; none with cache: off).
        body: () => cachedBody(plan, chunk),
        requestCount: items.length,
        known,
        log: (line: string) => warn(line),
        // Tests shorten the wait for an answer to exercise a create that times out.
        timeoutMs: Number(process.env.CLAUDE_BATCH_TEST_CREATE_TIMEOUT_MS) || undefined
      })
    } catch (error) {
      const failure = error instanceof CreateError ? error : new CreateError(`Create failed: ${describeError(error)}.`, true, { cause: error })
      return { refs, batches, failure, unsent: plan.requests.length - chunk.start }
    }
    const made = created.verified ? [created.batch] : created.candidates
    for (const batch of made) {
      known.add(batch.id)
      batches.push(batch)
      refs.push(batchRef(batch, n, created.verified))
    }
    const ids = [...new Set(refs.map((r) => r.id))]
    setOutputs({ 'batch-id': ids[0], 'batch-ids': ids, status: 'in_progress' })
    const of = plan.chunks.length > 1 ? `, batch ${n + 1} of ${plan.chunks.length}` : ''
    if (created.verified) info(`Created ${created.batch.id} (${count(items.length, 'request')}${of}); it expires at ${created.batch.expires_at}.`)
    else
      warn(
        `The answer to create was lost; ${made.map((b) => b.id).join(', ')} may be this submission's (${count(items.length, 'request')}${of}). Its results are written only if their ids prove it.`
      )
  }
  return { refs, batches, unsent: 0 }
}

/** What submit knows when it starts to wait. */
interface Submitted {
  plan: Plan
  estimate: Estimate | undefined
  batches: MessageBatch[]
  refs: BatchRef[]
  /** The submission's record: who submitted it, from which commit, and when (for its results artifact). */
  manifest: Manifest
  warnings: Problem[]
  temp: string
  chosen?: PayOnce
  artifacts?: SummaryInput['artifacts']
}

async function waitAndCollect(client: Anthropic, inputs: Inputs, s: Submitted): Promise<void> {
  const { plan, estimate, batches, refs, warnings, temp, chosen } = s
  const resultsDir = path.join(process.env.RUNNER_TEMP || path.dirname(temp), 'claude-batch-results')
  const resultsFile = path.join(resultsDir, `${refs[0]!.id}.jsonl`)
  await mkdir(resultsDir, { recursive: true })
  const collector = await ResultCollector.create({ plan, workspace: inputs.workspace, resultsPath: resultsFile, prices: inputs.prices })
  const started = Date.now()
  let gathered: Gathered
  try {
    gathered = await core.group(`Waiting up to ${inputs.waitMinutes} min for ${count(batches.length, 'batch', 'batches')}`, () =>
      gather(client, plan, refs, collector, { deadline: started + inputs.waitMinutes * 60_000, maxIntervalMs: inputs.pollIntervalSeconds * 1000, known: batches })
    )
    const previous = inputs.lockFile && chosen?.lock ? await loadPreviousRows(plan, inputs.workspace, chosen.lock) : new Map<string, never>()
    if (gathered.settled) await writeDataOutputs(plan, collector, inputs.workspace, undefined, previous)
    if (inputs.lockFile) await recordLock(plan, collector, inputs.workspace, inputs.lockFile, previous)
  } finally {
    await collector.close()
  }
  // Results artifacts kept by this job: the submission's, then any retry's.
  const results: Kept[] = []
  const keep = async (submitted: Submitted, c: ResultCollector, file: string): Promise<void> => {
    const one = await keepCollected(inputs, submitted, c, file)
    if (one) results.push(one)
  }
  if (collectedHere(gathered)) await keep(s, collector, resultsFile)

  // retry-failed: transient failures go out again in follow-up submissions while time remains.
  let retried = { batchIds: [] as string[], unsettled: false }
  if (gathered.settled && inputs.retryFailed > 0 && !gathered.unwritten.length) {
    retried = await retryFailed({
      client,
      plan,
      collector,
      rounds: inputs.retryFailed,
      deadline: started + inputs.waitMinutes * 60_000,
      maxIntervalMs: inputs.pollIntervalSeconds * 1000,
      workspace: inputs.workspace,
      prices: inputs.prices,
      temp,
      limits: limits(),
      submit: (retry) => submitFollowUp(client, retry, inputs, temp),
      record: (retry, c) => (inputs.lockFile ? recordLock(retry, c, inputs.workspace, inputs.lockFile, new Map()) : Promise.resolve()),
      keep: (retry, c, refs, file) => keep({ ...s, plan: retry, refs, manifest: { ...s.manifest, createdAt: new Date().toISOString() } }, c, file)
    })
  }

  const unsent = gathered.unsent.reduce((n, c) => n + plan.chunks[c]!.end - plan.chunks[c]!.start, 0)
  const failed = collector.counts.errored + collector.counts.expired + collector.counts.canceled
  reportResults(plan, collector, inputs.failOnError ? 'error' : 'warning')
  const ended = gathered.settled && !retried.unsettled
  setOutputs(
    {
      ...(retried.batchIds.length ? { 'batch-ids': [...new Set([...refs.map((r) => r.id), ...retried.batchIds])] } : {}),
      status: ended ? 'ended' : 'in_progress',
      succeeded: collector.counts.succeeded,
      errored: collector.counts.errored,
      canceled: collector.counts.canceled,
      expired: collector.counts.expired,
      'results-file': resultsFile,
      'output-files': [...collector.written].sort(),
      'cost-usd': collector.costs.batch.toFixed(4),
      ...(results.length ? { 'results-artifact-id': results[0]!.id, 'results-artifact-ids': results.flatMap((r) => (r.id === undefined ? [] : [r.id])) } : {})
    },
    () => writeList(path.join(resultsDir, `${refs[0]!.id}.output-files.json`), [...collector.written].sort())
  )
  const headline = ended
    ? `${count(batches.length, 'batch', 'batches')} ended after ${duration(Date.now() - started)}: ${collector.counts.succeeded} succeeded, ${failed} did not.`
    : gathered.failed.length
      ? `The results of ${gathered.failed.map((f) => f.id).join(', ')} could not be collected here; collect will try again.`
      : `Still in progress after ${inputs.waitMinutes} min; the batches keep running and their ids are in the step outputs.`
  await writeSummary({
    headline: headline + (chosen ? describeSplit(chosen.split) : ''),
    plan,
    estimate,
    batchIds: batches.map((b) => b.id),
    problems: [],
    warnings,
    results: collector,
    resultsKept: TEMP_RESULTS,
    dryRun: false,
    stale: chosen?.stale,
    prices: inputs.prices,
    artifacts: [...(s.artifacts ?? []), ...results]
  })
  if (!ended) info(headline)
  for (const f of gathered.failed) reportError(`${f.id}: ${f.message}`, { title: 'Batch results' })
  annotate('error', gathered.unwritten, 'Output not written')
  if (gathered.unwritten.length) {
    fail(
      `${count(gathered.unwritten.length, 'reply', 'replies')} could not be written (each is annotated on its source); everything else was written. Their text is in the results file.`
    )
  } else if (unsent) {
    fail(
      `${count(unsent, 'request')} of ${plan.requests.length} were never submitted: the batch found after the lost create answer was not this submission's. Nothing of it was written. Run submit again to send them.`
    )
  } else if (gathered.failed.length) {
    fail(`Some results could not be collected in this job (${gathered.failed.map((f) => `${f.id}: ${f.message}`).join('; ')}). The batches are recorded; run collect to try again.`)
  } else if (failed && inputs.failOnError) {
    fail(
      `${count(failed, 'request')} of ${plan.requests.length} did not succeed (${collector.counts.errored} errored, ${collector.counts.expired} expired, ${collector.counts.canceled} canceled). Everything else was written; set fail-on-error: false to let the step pass.`
    )
  }
}

/**
 * A follow-up submission (retry-failed) of requests already checked and estimated: its own journal,
 * creates and manifest, so that collect can finish it if this job ends first. Throws when nothing
 * could be created.
 */
async function submitFollowUp(client: Anthropic, plan: Plan, inputs: Inputs, temp: string): Promise<{ refs: BatchRef[]; batches: MessageBatch[] }> {
  const startedAt = new Date().toISOString()
  const record = (refs: BatchRef[]) => buildManifest(plan, refs, { outputDir: inputs.outputDir, startedAt })
  await saveRecord(journalName(plan.tag), record([]), { temp, retentionDays: inputs.retentionDays })
  const created = await createBatches(client, plan)
  if (created.refs.length) {
    const saved = await saveManifest(record(created.refs), inputs, temp)
    if (!saved.ok) warn(`Could not save the manifest of the retry ${plan.tag}: ${saved.error}. Its journal records it, so collect finds it.`)
  }
  if (!created.refs.length) throw created.failure ?? new Error('no batch was created')
  if (created.failure) warn(`${created.failure.message} ${created.unsent} retried request(s) were not resubmitted; the next run sends them.`)
  return created
}

/** Persists what a later collect needs, as an artifact (retried), or in a local folder where there is no artifact service. */
async function saveManifest(manifest: Manifest, inputs: Inputs, temp: string): Promise<{ ok: boolean; error?: string; artifact?: { name: string; id?: number } }> {
  const name = manifestName(manifest.tag, manifest.batches[0]!.id)
  try {
    const saved = await saveRecord(name, manifest, { temp, retentionDays: inputs.retentionDays })
    if (saved.file) {
      warn(`The Actions artifact service is not available here (a local run?), so the manifest was written to ${saved.file} instead. collect looks there too.`)
    } else {
      info(`Saved the manifest as artifact ${name} (id ${saved.artifactId}), kept ${inputs.retentionDays} days.`)
      setOutputs({ 'manifest-artifact-id': saved.artifactId })
      return { ok: true, artifact: { name, id: saved.artifactId } }
    }
    return { ok: true }
  } catch (error) {
    return { ok: false, error: describeError(error) }
  }
}

/** The artifacts a submission kept, for the summary's links. */
function kept(saved: { artifact?: { name: string; id?: number } } | undefined): SummaryInput['artifacts'] {
  return saved?.artifact ? [saved.artifact] : undefined
}

// The results file lives in the runner's temp folder, deleted when the job ends: the summary says
// so, and how to keep it, rather than showing a path that leads nowhere after the job.
const TEMP_RESULTS =
  "the step output <code>results-file</code> names a JSONL file of every raw result line, in the runner's temp folder: " +
  'it is deleted when the job ends, so upload it with <code>actions/upload-artifact</code> in a later step to keep it.'

function writeList(file: string, list: string[]): string {
  writeFileSync(file, JSON.stringify(list, null, 2))
  return file
}

/** The pay-once split, for the log and the summary headline. */
function describeSplit(s: Split): string {
  const sent = [
    s.new && `${s.new} new`,
    s.changed && `${s.changed} changed`,
    s.missing && `${s.missing} whose output was deleted`,
    s.regenerated && `${s.regenerated} regenerated`
  ].filter(Boolean)
  const not = [
    s.unchanged && `${s.unchanged} unchanged`,
    s.pending && `${s.pending} pending in a submission not collected yet`,
    s.deferred && `${s.deferred} deferred to a later run (max-requests)`
  ].filter(Boolean)
  if (!not.length && !s.changed && !s.missing && !s.regenerated) return ''
  return ` Sent: ${sent.join(', ') || 'none'}; not sent: ${not.join(', ') || 'none'}.`
}

/**
 * A submission whose every result this job read and wrote is collected here: its results artifact
 * (results, summary and outputs, as collect keeps them) marks it so, and a scheduled collect neither
 * writes it again nor opens a pull request for it. The step's results file stays where its output
 * says. An upload that fails costs nothing but that: collect then collects the submission again.
 */
async function keepCollected(inputs: Inputs, s: Submitted, collector: ResultCollector, resultsFile: string): Promise<Kept | undefined> {
  const name = resultsName(s.plan.tag)
  const files = [...collector.written].sort()
  const batchIds = [...new Set(s.refs.map((r) => r.id))]
  const summary = submissionSummary(
    s.manifest,
    {
      batchId: batchIds[0]!,
      batchIds,
      detail: 'Collected by the run that submitted it, which waited for its results.',
      counts: collector.counts,
      cost: collector.costs.batch,
      files: files.length
    },
    failedRequests(s.plan, collector, false)
  )
  try {
    const id = await keepResults(
      { tag: s.plan.tag, name, resultsFile, keepResultsFile: true, summary, workspace: inputs.workspace, files, retentionDays: inputs.retentionDays },
      path.join(s.temp, name)
    )
    return artifactServiceAvailable() ? { name, id } : undefined
  } catch (error) {
    warn(`Every output was written, but the results artifact ${name} could not be uploaded (${esc(describeError(error))}): a scheduled collect will collect this submission again.`)
    return undefined
  }
}

type Kept = { name: string; id?: number }

/** Records written outputs in the lock file; a lock that cannot be written is reported, not fatal to the outputs. */
async function recordLock(plan: Plan, collector: ResultCollector, workspace: string, lockFile: string, previous: PreviousRows): Promise<void> {
  try {
    const file = await recordResults(plan, collector, workspace, lockFile, previous)
    if (file) collector.written.add(file)
  } catch (error) {
    fail(
      `The outputs were written, but the lock file ${esc(lockFile)} could not be updated: ${esc(describeError(error))}. The next run sends those requests again; fix the lock file (or delete it).`
    )
  }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`
}
