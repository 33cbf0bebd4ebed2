import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatch } from './client.js'

export interface WaitOptions {
  /** Epoch ms after which the wait gives up and leaves the batches running. */
  deadline: number
  /** The longest gap between two polls. */
  maxIntervalMs: number
  /** Called once for each batch as soon as it has ended, while the others are still polled. */
  onEnded: (batch: MessageBatch) => Promise<void>
  log: (line: string) => void
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

const FIRST_INTERVAL_MS = 1_000
// Right after a create the batch can briefly answer 404 (anthropic-sdk-python#1432): that long,
// a 404 means "not visible yet" rather than "gone".
const NEW_BATCH_GRACE_MS = 120_000

/**
 * Polls batches until every one has ended or the deadline passes. Polls start a second apart and
 * back off to `maxIntervalMs`, since most batches take minutes to an hour.
 * Returns the last state seen of each batch.
 */
export async function waitForBatches(client: Anthropic, batches: MessageBatch[], options: WaitOptions): Promise<MessageBatch[]> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const latest = new Map(batches.map((b) => [b.id, b]))
  const started = now()
  let interval = Math.min(FIRST_INTERVAL_MS, options.maxIntervalMs)

  // TEMPORARY (until h/retry lands): batches that had ended before the wait are handed over too.
  for (const batch of batches) if (batch.processing_status === 'ended') await options.onEnded(batch)
  for (;;) {
    for (const [id, previous] of latest) {
      if (previous.processing_status === 'ended') continue
      const batch = await retrieve(client, previous)
      latest.set(id, batch)
      options.log(progressLine(batch, now() - started))
      if (batch.processing_status === 'ended') await options.onEnded(batch)
    }
    const pending = [...latest.values()].some((b) => b.processing_status !== 'ended')
    const left = options.deadline - now()
    if (!pending || left <= 0) return [...latest.values()]
    await sleep(Math.min(interval, left))
    interval = Math.min(interval * 2, options.maxIntervalMs)
  }
}

async function retrieve(client: Anthropic, batch: MessageBatch): Promise<MessageBatch> {
  try {
    return await client.messages.batches.retrieve(batch.id)
  } catch (error) {
    if (error instanceof NotFoundError && Date.now() - Date.parse(batch.created_at) < NEW_BATCH_GRACE_MS) return batch
    throw error
  }
}

export function progressLine(batch: MessageBatch, elapsedMs: number): string {
  const c = batch.request_counts
  const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
  const done = total - c.processing
  const parts = [`${batch.id}: ${batch.processing_status.replace('_', ' ')}`, `${done} of ${total} done`]
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
