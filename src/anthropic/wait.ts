import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import { describeError, type MessageBatch } from './client.js'
import { total } from './counts.js'
import { MalformedAnswerError, RetryDeadlineError, withRetry } from './retry.js'

export interface WaitOptions {
  /** Epoch ms after which the wait gives up and leaves the batches running. */
  deadline: number
  /** The longest gap between two polls (the `poll-interval-seconds` input). */
  maxIntervalMs: number
  /** Called once for each batch that has ended, whether it ended before the wait or during it. */
  onEnded: (batch: MessageBatch) => Promise<void>
  log: (line: string) => void
  /** How long a status call under way may run past the deadline before it is abandoned (default 5 s). */
  graceMs?: number
  /** The longest one status call may take (default 30 s). */
  callTimeoutMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

// Right after a create the batch can briefly answer 404 (anthropic-sdk-python#1432): that long,
// a 404 means "not visible yet" rather than "gone".
const NEW_BATCH_GRACE_MS = 120_000
const GRACE_MS = 5_000
const CALL_TIMEOUT_MS = 30_000

/**
 * Polls batches until every one has ended or the deadline passes, handing each to `onEnded` once,
 * as soon as it is seen ended (batches that had already ended when the wait began included, so a
 * batch found after a lost create is collected like any other).
 *
 * Status calls are retried within the deadline (a few 500s, an HTML page, a dropped connection
 * are survived), and none runs more than `graceMs` past it, so the wait ends in time even when
 * the API stops answering. When the deadline passes, the batches not yet ended are returned as
 * they were last seen: still running, which is not an error. Returns the last state of each batch.
 */
export async function waitForBatches(client: Anthropic, batches: MessageBatch[], options: WaitOptions): Promise<MessageBatch[]> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const latest = new Map(batches.map((b) => [b.id, b]))
  const started = now()
  const result = () => [...latest.values()]

  for (const batch of batches) if (batch.processing_status === 'ended') await options.onEnded(batch)

  for (let round = 0; ; round++) {
    for (const [id, previous] of latest) {
      if (previous.processing_status === 'ended') continue
      let batch: MessageBatch
      try {
        batch = await retrieveBatch(client, previous, {
          // The last poll may be due just before the deadline: it still gets a few seconds.
          deadline: Math.max(options.deadline, now() + (options.graceMs ?? GRACE_MS)),
          timeoutMs: options.callTimeoutMs ?? CALL_TIMEOUT_MS,
          log: options.log,
          now,
          sleep
        })
      } catch (error) {
        if (!(error instanceof RetryDeadlineError)) throw error
        options.log(`Stopped waiting: ${describeError(error)} The batches keep running; their results can be collected later.`)
        return result()
      }
      latest.set(id, batch)
      options.log(progressLine(batch, now() - started))
      if (batch.processing_status === 'ended') await options.onEnded(batch)
    }
    const pending = result().some((b) => b.processing_status !== 'ended')
    const left = options.deadline - now()
    if (!pending || left <= 0) return result()
    await sleep(Math.min(pollIntervalMs(round, now() - started, options.maxIntervalMs), left))
  }
}

/**
 * The pause after poll round `round` (from 0), `elapsedMs` into the wait: quick at first, since a
 * small batch can end in seconds, then sparse, since most take minutes to hours. 1 s doubling to
 * 30 s, 60 s after half an hour, 120 s after two hours (about 275 polls in 6 hours), never more
 * than `capMs`. The default cap (`poll-interval-seconds`: 120) lets this run whole; a 30 s cap
 * would hold it at 30 s and make about 720 polls in 6 hours.
 */
export function pollIntervalMs(round: number, elapsedMs: number, capMs: number): number {
  const scheduled = elapsedMs >= 2 * 3_600_000 ? 120_000 : elapsedMs >= 1_800_000 ? 60_000 : Math.min(1_000 * 2 ** round, 30_000)
  return Math.max(0, Math.min(scheduled, capMs))
}

/**
 * One status read, retried within the deadline (retry.ts). A 404 within two minutes of the batch's
 * creation is the API catching up and returns the state known before; later, it is thrown.
 */
export async function retrieveBatch(
  client: Anthropic,
  batch: Pick<MessageBatch, 'id' | 'created_at'> & Partial<MessageBatch>,
  options: { deadline?: number; timeoutMs?: number; log?: (line: string) => void; now?: () => number; sleep?: (ms: number) => Promise<void> } = {}
): Promise<MessageBatch> {
  const now = options.now ?? Date.now
  try {
    return await withRetry(
      `reading the status of ${batch.id}`,
      async (o) => {
        const answer: unknown = await client.messages.batches.retrieve(batch.id, {}, { ...o, maxRetries: 0 })
        if (!isBatch(answer, batch.id)) throw new MalformedAnswerError(`the status of ${batch.id}`)
        return answer
      },
      options
    )
  } catch (error) {
    const young = now() - Date.parse(batch.created_at) < NEW_BATCH_GRACE_MS
    if (error instanceof NotFoundError && young && batch.processing_status) return batch as MessageBatch
    throw error
  }
}

function isBatch(answer: unknown, id: string): answer is MessageBatch {
  const b = answer as Partial<MessageBatch> | null
  return typeof b === 'object' && b !== null && b.id === id && typeof b.processing_status === 'string' && typeof b.request_counts === 'object'
}

export function progressLine(batch: MessageBatch, elapsedMs: number): string {
  const c = batch.request_counts
  const all = total(batch)
  const parts = [`${batch.id}: ${batch.processing_status.replace('_', ' ')}`, `${all - c.processing} of ${all} done`]
  if (c.errored) parts.push(`${c.errored} errored`)
  if (c.canceled) parts.push(`${c.canceled} canceled`)
  if (c.expired) parts.push(`${c.expired} expired`)
  parts.push(`waited ${duration(elapsedMs)}`)
  return parts.join(' · ')
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`
}
