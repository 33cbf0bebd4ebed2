import * as core from '@actions/core'
import path from 'node:path'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import type { Anthropic } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import { makeTempDir, sha256File } from '../paths/index.js'
import type { Problem } from '../sources/types.js'
import { readSources } from '../sources/index.js'
import { API_LIMITS, buildPlan, type Limits, type Plan } from '../plan/plan.js'
import { batchBody } from '../plan/spool.js'
import { checkModels, estimateCost, type Estimate } from '../preflight.js'
import { createClient, type MessageBatch } from '../anthropic/client.js'
import { createBatch } from '../anthropic/create.js'
import { duration, waitForBatches } from '../anthropic/wait.js'
import { ResultCollector } from '../results/collect.js'
import { writeDataOutputs } from '../results/data-output.js'
import { formatUsd } from '../cost/cost.js'
import { annotate } from '../report/annotations.js'
import { reportResults } from '../report/failures.js'
import { setOutputs } from '../report/outputs.js'
import { writeSummary } from '../report/summary.js'
import { buildManifest, manifestName, MANIFEST_FILE } from '../state/manifest.js'
import { artifactServiceAvailable, saveLocalManifest, uploadArtifact } from '../state/artifacts.js'

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
  const client = inputs.apiKey ? createClient({ apiKey: inputs.apiKey, baseURL: inputs.baseURL }) : undefined
  const temp = await makeTempDir('claude-batch-')

  try {
    const plan = await core.group('Reading prompts', () => readPlan(inputs, path.join(temp, 'requests.jsonl'), problem, warning))
    if (plan.requests.length === 0 && problems.length === 0) problem({ message: 'The prompt sources produced no requests.' })

    let estimate: Estimate | undefined
    if (plan.requests.length) {
      estimate = await core.group('Checking models and estimating cost', async () => {
        let usable = true
        if (client) usable = await checkModels(client, plan, problem, warning, core.info)
        else warning({ message: 'Dry run without an API key: models were not checked and input tokens are approximated.' })
        return usable ? estimateCost(client, plan, inputs.prices, core.info) : undefined
      })
    }
    if (estimate) {
      logEstimate(estimate)
      checkBudget(estimate, inputs.maxCost, problem)
    }
    setOutputs({ 'request-count': plan.requests.length, 'estimated-cost-usd': estimate?.batchUsd?.toFixed(4) })

    annotate('warning', warnings)
    if (problems.length) {
      annotate('error', problems)
      await writeSummary({ headline: `${count(problems.length, 'problem')} found: nothing was submitted.`, plan, estimate, batchIds: [], problems, warnings, dryRun: inputs.dryRun })
      core.setFailed(`${count(problems.length, 'problem')} found; nothing was submitted. Each is annotated on its file and listed in the job summary.`)
      return
    }
    if (inputs.dryRun) {
      core.info(`Dry run: ${count(plan.requests.length, 'request')} in ${count(plan.chunks.length, 'batch', 'batches')} would be submitted.`)
      setOutputs({ status: 'dry-run' })
      await writeSummary({ headline: `Dry run: ${count(plan.requests.length, 'request')} in ${count(plan.chunks.length, 'batch', 'batches')} would be submitted. Nothing was sent.`, plan, estimate, batchIds: [], problems, warnings, dryRun: true })
      return
    }

    const batches = await core.group('Submitting', () => createBatches(client!, plan))
    const batchIds = batches.map((b) => b.id)
    setOutputs({ 'batch-id': batchIds[0], 'batch-ids': batchIds, status: 'in_progress' })
    // Before any waiting: a job cancelled or timed out mid-wait must lose nothing.
    await core.group('Saving the manifest', () => saveManifest(plan, batches, inputs, temp))

    if (inputs.waitMinutes <= 0) {
      await writeSummary({ headline: `Submitted ${count(batches.length, 'batch', 'batches')} of ${count(plan.requests.length, 'request')}; not waiting for results (wait-minutes is 0).`, plan, estimate, batchIds, problems, warnings, dryRun: false })
      return
    }
    await waitAndCollect(client!, inputs, plan, estimate, batches, warnings, temp)
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

async function readPlan(inputs: Inputs, spoolPath: string, problem: (p: Problem) => void, warning: (p: Problem) => void): Promise<Plan> {
  const ctx = {
    workspace: inputs.workspace,
    outputDir: inputs.outputDir,
    defaults: { model: inputs.model, maxTokens: inputs.maxTokens, system: inputs.system },
    problem,
    warning
  }
  const sources = readSources(
    { prompts: inputs.prompts, promptsIsDefault: inputs.promptsIsDefault, data: inputs.data, template: inputs.template, requests: inputs.requests },
    ctx
  )
  const plan = await buildPlan(sources, { workspace: inputs.workspace, spoolPath, limits: limits(), problem })
  const files = new Set(plan.requests.map((r) => r.origin.file))
  core.info(`${count(plan.requests.length, 'request')} from ${count(files.size, 'file')}, in ${count(plan.chunks.length, 'batch', 'batches')}.`)
  return plan
}

// The API's limits, unless a test lowers them to exercise splitting without 100,000 requests.
function limits(): Limits {
  const requests = Number(process.env.CLAUDE_BATCH_TEST_MAX_REQUESTS)
  const bytes = Number(process.env.CLAUDE_BATCH_TEST_MAX_BYTES)
  return { maxRequests: requests > 0 ? requests : API_LIMITS.maxRequests, maxBytes: bytes > 0 ? bytes : API_LIMITS.maxBytes }
}

function logEstimate(e: Estimate): void {
  const cost = e.batchUsd === undefined ? `unknown (no price for ${e.unpriced.join(', ')})` : `at most ${formatUsd(e.batchUsd)} at batch prices (${formatUsd(e.standardUsd!)} at standard prices)`
  core.info(`Estimated cost: ${cost}; ${e.inputTokens.toLocaleString('en-US')} input tokens (${e.method}), up to ${e.maxOutputTokens.toLocaleString('en-US')} output tokens.`)
}

function checkBudget(e: Estimate, maxCost: number | undefined, problem: (p: Problem) => void): void {
  if (maxCost === undefined) return
  if (e.batchUsd === undefined) {
    problem({ message: `max-cost is set, but no price is known for ${e.unpriced.join(', ')}, so the cost cannot be checked. Add the model to model-prices.` })
  } else if (e.batchUsd > maxCost) {
    problem({
      message: `The estimated cost, up to ${formatUsd(e.batchUsd)}, exceeds max-cost (${formatUsd(maxCost)}). The estimate counts every request's max_tokens as output: lower max-tokens, send fewer prompts, or raise max-cost.`
    })
  }
}

async function createBatches(client: Anthropic, plan: Plan): Promise<MessageBatch[]> {
  const batches: MessageBatch[] = []
  const known = new Set<string>()
  for (const [n, chunk] of plan.chunks.entries()) {
    const items = plan.requests.slice(chunk.start, chunk.end)
    const batch = await createBatch(client, {
      body: () => batchBody(plan.spoolPath, items),
      requestCount: items.length,
      known,
      log: core.warning,
      // Tests shorten the wait for an answer to exercise a create that times out.
      timeoutMs: Number(process.env.CLAUDE_BATCH_TEST_CREATE_TIMEOUT_MS) || undefined
    })
    known.add(batch.id)
    batches.push(batch)
    core.info(`Created ${batch.id} (${count(items.length, 'request')}${plan.chunks.length > 1 ? `, batch ${n + 1} of ${plan.chunks.length}` : ''}); it expires at ${batch.expires_at}.`)
  }
  return batches
}

async function waitAndCollect(
  client: Anthropic,
  inputs: Inputs,
  plan: Plan,
  estimate: Estimate | undefined,
  batches: MessageBatch[],
  warnings: Problem[],
  temp: string
): Promise<void> {
  const resultsDir = path.join(process.env.RUNNER_TEMP || path.dirname(temp), 'claude-batch-results')
  const resultsFile = path.join(resultsDir, `${batches[0]!.id}.jsonl`)
  await mkdir(resultsDir, { recursive: true })
  const collector = await ResultCollector.create({ plan, workspace: inputs.workspace, resultsPath: resultsFile, prices: inputs.prices })
  const started = Date.now()
  let ended = false
  try {
    const final = await core.group(`Waiting up to ${inputs.waitMinutes} min for ${count(batches.length, 'batch', 'batches')}`, () =>
      waitForBatches(client, batches, {
        deadline: started + inputs.waitMinutes * 60_000,
        maxIntervalMs: inputs.pollIntervalSeconds * 1000,
        log: core.info,
        onEnded: async (batch) => {
          core.info(`${batch.id} ended; collecting its results.`)
          await collector.collect(client, batch.id)
        }
      })
    )
    ended = final.every((b) => b.processing_status === 'ended')
    if (ended) await writeDataOutputs(plan, collector, inputs.workspace)
  } finally {
    await collector.close()
  }

  const failed = collector.counts.errored + collector.counts.expired + collector.counts.canceled
  reportResults(plan, collector, inputs.failOnError ? 'error' : 'warning')
  setOutputs(
    {
      status: ended ? 'ended' : 'in_progress',
      succeeded: collector.counts.succeeded,
      errored: collector.counts.errored,
      canceled: collector.counts.canceled,
      expired: collector.counts.expired,
      'results-file': resultsFile,
      'output-files': [...collector.written].sort(),
      'cost-usd': collector.costs.batch.toFixed(4)
    },
    () => writeList(path.join(resultsDir, `${batches[0]!.id}.output-files.json`), [...collector.written].sort())
  )
  const headline = ended
    ? `${count(batches.length, 'batch', 'batches')} ended after ${duration(Date.now() - started)}: ${collector.counts.succeeded} succeeded, ${failed} did not.`
    : `Still in progress after ${inputs.waitMinutes} min; the batches keep running and their ids are in the step outputs.`
  await writeSummary({ headline, plan, estimate, batchIds: batches.map((b) => b.id), problems: [], warnings, results: collector, resultsFile, dryRun: false })
  if (!ended) core.info(headline)
  if (failed && inputs.failOnError) {
    core.setFailed(`${count(failed, 'request')} of ${plan.requests.length} did not succeed (${collector.counts.errored} errored, ${collector.counts.expired} expired, ${collector.counts.canceled} canceled). Everything else was written; set fail-on-error: false to let the step pass.`)
  }
}

/** Persists what a later collect needs, as an artifact, or in a local folder where there is no artifact service. */
async function saveManifest(plan: Plan, batches: MessageBatch[], inputs: Inputs, temp: string): Promise<void> {
  const dir = path.join(temp, 'manifest')
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, MANIFEST_FILE)
  // Collect rewrites each data file from the collector's checkout: the hash tells it whether that is still the same file.
  const dataHashes = new Map<string, string>()
  for (const d of plan.dataOutputs) dataHashes.set(d.source, await sha256File(path.join(inputs.workspace, d.source)))
  await writeFile(file, JSON.stringify(buildManifest(plan, batches, { outputDir: inputs.outputDir, dataHashes })))
  const name = manifestName(batches[0]!.id)
  if (!artifactServiceAvailable()) {
    const local = await saveLocalManifest(name, file)
    core.warning(`The Actions artifact service is not available here (a local run?), so the manifest was written to ${local} instead. collect looks there too.`)
    return
  }
  try {
    const id = await uploadArtifact(name, [file], dir, inputs.retentionDays)
    core.info(`Saved the manifest as artifact ${name} (id ${id}), kept ${inputs.retentionDays} days.`)
    setOutputs({ 'manifest-artifact-id': id })
  } catch (error) {
    // The batches exist and must not be submitted again, so the step goes on; but a collector will
    // not find them, which the user has to know.
    const local = await saveLocalManifest(name, file)
    core.error(`Could not upload the manifest artifact ${name}: ${(error as Error).message}. It was written to ${local}; collect these batches from this job (wait-minutes) or by batch-id.`)
  }
}

function writeList(file: string, list: string[]): string {
  writeFileSync(file, JSON.stringify(list, null, 2))
  return file
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`
}
