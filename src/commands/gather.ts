import type { Anthropic } from '@anthropic-ai/sdk'
import { describeError, type MessageBatch } from '../anthropic/client.js'
import { waitForBatches } from '../anthropic/wait.js'
import { total } from '../anthropic/counts.js'
import type { Plan } from '../plan/plan.js'
import type { ResultCollector } from '../results/collect.js'
import { info } from '../report/log.js'
import type { BatchRef } from '../state/manifest.js'
import type { Problem } from '../sources/types.js'
import { warn } from '../report/annotations.js'

/** What waiting for a submission's batches and reading their results came to. */
export interface Gathered {
  /** The last state seen of each batch. */
  batches: MessageBatch[]
  /** Batches found after a lost create whose results proved them someone else's. */
  notOurs: Array<{ id: string; reason: string }>
  /** Batches whose results could not be read, or did not match what was sent: nothing was written from them. */
  failed: Array<{ id: string; message: string }>
  /** Chunks none of whose candidate batches was this submission's: their requests were never sent. */
  unsent: number[]
  /** True when every chunk is either collected or known never to have been sent. */
  settled: boolean
  /** Succeeded requests whose output could not be written, on their source file and line. */
  unwritten: Problem[]
}

/**
 * True when the job that waited has nothing left for collect to do: every batch ended, every chunk
 * was sent, every result was read and every reply written.
 */
export function collectedHere(g: Gathered): boolean {
  return g.settled && !g.failed.length && !g.unsent.length && !g.unwritten.length
}

/**
 * Waits (until `deadline`; a deadline already past polls once) for a submission's batches and reads
 * each one's results as soon as it ends, through the collector, which writes nothing from a batch
 * until its result ids prove it is this submission's. Used by submit (waiting in the job) and collect.
 */
export async function gather(
  client: Anthropic,
  plan: Plan,
  refs: readonly BatchRef[],
  collector: ResultCollector,
  options: { deadline: number; maxIntervalMs: number; known?: readonly MessageBatch[]; skip?: ReadonlySet<string>; anyRequests?: boolean }
): Promise<Gathered> {
  const notOurs: Gathered['notOurs'] = []
  const failed: Gathered['failed'] = []
  const ours = new Set<string>()
  const start = recordedBatches(refs)
    .filter((b) => !options.skip?.has(b.id))
    .map((b) => options.known?.find((k) => k.id === b.id) ?? b)
  const batches = await waitForBatches(client, start, {
    deadline: options.deadline,
    maxIntervalMs: options.maxIntervalMs,
    log: info,
    onEnded: async (batch) => {
      info(`${batch.id} ended; reading its results.`)
      try {
        // A plan read again from the checkout holds every request, the batch only those it sent.
        const anyOf = options.anyRequests ? total(batch) : undefined
        const verdict = await collector.collect(client, batch.id, { verified: refs.some((r) => r.id === batch.id && r.verified), anyOf })
        if (verdict.ours) ours.add(batch.id)
        else {
          notOurs.push({ id: batch.id, reason: verdict.reason })
          warn(`${batch.id} is not this submission's batch: ${verdict.reason}. Nothing was written from it.`)
        }
      } catch (error) {
        failed.push({ id: batch.id, message: describeError(error) })
      }
    }
  })
  const unsent: number[] = []
  let settled = true
  plan.chunks.forEach((_, chunk) => {
    if (collector.collectedChunks.has(chunk)) return
    // An unproved batch may carry any chunk of its size, whatever chunk its record guessed.
    const open = refs.filter((r) => (r.chunk === chunk || !r.verified) && !ours.has(r.id) && !notOurs.some((n) => n.id === r.id))
    if (open.length === 0) unsent.push(chunk)
    else settled = false
  })
  const unwritten = [...collector.unwritten].map(([i, why]) => {
    const r = plan.requests[i]!
    return { file: r.origin.file, line: r.origin.line, message: `The reply to ${r.customId} could not be written to ${JSON.stringify(r.output?.path)}: ${why}` }
  })
  return { batches, notOurs, failed, unsent, settled: settled && failed.length === 0, unwritten }
}

/** A submission's batches as its records know them, one per id: the first poll fills in the rest. */
export function recordedBatches(refs: readonly BatchRef[]): MessageBatch[] {
  return [...new Map(refs.map((ref) => [ref.id, placeholder(ref)])).values()]
}

function placeholder(ref: BatchRef): MessageBatch {
  return {
    id: ref.id,
    type: 'message_batch',
    processing_status: 'in_progress',
    request_counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    created_at: ref.createdAt,
    expires_at: ref.expiresAt,
    ended_at: null,
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null
  } as MessageBatch
}
