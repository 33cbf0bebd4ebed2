import type { Anthropic } from '@anthropic-ai/sdk'
import path from 'node:path'
import { plainRequest } from '../plan/table.js'
import type { MessageBatch } from '../anthropic/client.js'
import { newTag } from '../plan/custom-ids.js'
import type { Limits, Plan } from '../plan/plan.js'
import { reducedPlan } from '../plan/skip.js'
import { Outcome, ResultCollector } from '../results/collect.js'
import type { PriceOverrides } from '../cost/prices.js'
import type { BatchRef } from '../state/manifest.js'
import { collectedHere, gather, type Gathered } from './gather.js'
import { info } from '../report/log.js'
import { warn } from '../report/annotations.js'

/** Failures that say nothing about the request itself: sending it again may well succeed. */
export const RETRYABLE_ERRORS: ReadonlySet<string> = new Set(['overloaded_error', 'api_error', 'rate_limit_error'])

/**
 * The requests of a collected plan worth sending again: errored with a transient error, or expired;
 * never an invalid request. Only file outputs: a data file's failed rows are left for the next run
 * (they have no lock entry), since its file was rebuilt already.
 */
export function retryable(plan: Plan, collector: ResultCollector): number[] {
  const out: number[] = []
  plan.requests.forEach((r, i) => {
    if (r.output?.kind !== 'file') return
    const outcome = collector.outcomeOf(i)
    if (outcome === 'expired' || (outcome === 'errored' && RETRYABLE_ERRORS.has(collector.errorTypes.get(i) ?? ''))) out.push(i)
  })
  return out
}

export interface RetryOptions {
  client: Anthropic
  plan: Plan
  collector: ResultCollector
  rounds: number
  deadline: number
  maxIntervalMs: number
  workspace: string
  prices: PriceOverrides
  temp: string
  limits: Limits
  /** Journal, create and manifest of a follow-up submission, as submit does for its own. */
  submit: (plan: Plan) => Promise<{ refs: BatchRef[]; batches: MessageBatch[] }>
  /** Records a round's written outputs in the lock file. */
  record: (plan: Plan, collector: ResultCollector) => Promise<void>
  /** Marks a round collected (its results artifact) once every result of it was read and written. */
  keep?: (plan: Plan, collector: ResultCollector, refs: BatchRef[], resultsFile: string) => Promise<void>
}

/**
 * retry-failed: while time remains, resubmits the retryable failures in a follow-up batch (a new
 * submission, its own tag, journal and manifest), and folds what came back into the first collector,
 * so that counts, outputs and the report describe each request's last attempt.
 */
export async function retryFailed(o: RetryOptions): Promise<{ batchIds: string[]; unsettled: boolean }> {
  const batchIds: string[] = []
  // Original request index of each request in the current round's plan.
  let indices = retryable(o.plan, o.collector)
  for (let round = 1; round <= o.rounds && indices.length && Date.now() < o.deadline; round++) {
    const tag = newTag()
    const sub = await reducedPlan(o.plan, indices, new Map(), { spoolPath: path.join(o.temp, `retry-${round}.jsonl`), limits: o.limits, problem: () => {} })
    const plan: Plan = { ...sub, tag, requests: sub.requests.map((r) => ({ ...plainRequest(r), customId: tag + r.customId.slice(o.plan.tag.length) })), dataOutputs: [] }
    info(`Retry ${round} of ${o.rounds}: resubmitting ${indices.length} request(s) that failed with a transient error or expired.`)
    let created: { refs: BatchRef[]; batches: MessageBatch[] }
    try {
      created = await o.submit(plan)
    } catch (error) {
      warn(`Retry ${round} could not be submitted (${(error as Error).message}); the next run sends those requests (they have no lock entry).`)
      break
    }
    batchIds.push(...new Set(created.refs.map((r) => r.id)))
    const resultsFile = path.join(o.temp, `retry-${round}.results.jsonl`)
    const collector = await ResultCollector.create({ plan, workspace: o.workspace, resultsPath: resultsFile, prices: o.prices })
    let gathered: Gathered
    try {
      gathered = await gather(o.client, plan, created.refs, collector, { deadline: o.deadline, maxIntervalMs: o.maxIntervalMs, known: created.batches })
      await o.record(plan, collector)
      fold(o.collector, collector, indices)
    } finally {
      await collector.close()
    }
    if (collectedHere(gathered)) await o.keep?.(plan, collector, created.refs, resultsFile)
    if (!gathered.settled) {
      info(`Retry ${round} has not ended in time; collect writes its results.`)
      return { batchIds, unsettled: true }
    }
    indices = retryable(plan, collector).map((j) => indices[j]!)
  }
  return { batchIds, unsettled: false }
}

/** Takes a retry's outcomes into the first collector: each request counts once, by its last attempt. */
function fold(into: ResultCollector, from: ResultCollector, indices: readonly number[]): void {
  const names = ['pending', 'succeeded', 'errored', 'canceled', 'expired'] as const
  indices.forEach((original, j) => {
    const now = from.outcomes[j]!
    if (now === Outcome.pending) return
    const before = into.outcomes[original]!
    if (before !== Outcome.pending) into.counts[names[before] as Exclude<(typeof names)[number], 'pending'>]--
    into.counts[names[now] as Exclude<(typeof names)[number], 'pending'>]++
    into.outcomes[original] = now
    into.notes.delete(original)
    into.errorTypes.delete(original)
    const note = from.notes.get(j)
    if (note) into.notes.set(original, note)
    const type = from.errorTypes.get(j)
    if (type) into.errorTypes.set(original, type)
  })
  for (const f of from.written) into.written.add(f)
  into.costs.merge(from.costs)
}
