import type { MessageBatch } from './client.js'

/** How many requests a batch holds: its counts always add up to that (batch-api.md §2). */
export function total(batch: MessageBatch): number {
  const c = batch.request_counts
  return c.processing + c.succeeded + c.errored + c.canceled + c.expired
}
