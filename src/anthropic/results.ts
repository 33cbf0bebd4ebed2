import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatchIndividualResponse } from './client.js'
import { withRetry, type RetryOptions } from './retry.js'

// Opening the stream (a status read, then the results URL) may take this long, retries included.
const OPEN_BUDGET_MS = 180_000
// A 404 straight after the end is the API catching up (anthropic-sdk-python#1432): tried this many times.
const NOT_YET_ATTEMPTS = 4

/**
 * The result lines of an ended batch, streamed: the SDK decodes the JSONL response line by line and
 * follows `results_url` as given. Opening the stream is retried like any idempotent call (a 500, an
 * HTML page, a dropped connection), and a 404 straight after the end a few times too; a stream
 * cut midway is the caller's to restart, since only it knows which lines it has taken.
 */
export async function openResults(
  client: Anthropic,
  batchId: string,
  options: Pick<RetryOptions, 'deadline' | 'timeoutMs' | 'log' | 'sleep' | 'now'> = {}
): Promise<AsyncIterable<MessageBatchIndividualResponse>> {
  const now = options.now ?? Date.now
  return withRetry(`opening the results of ${batchId}`, (o) => client.messages.batches.results(batchId, {}, { ...o, maxRetries: 0 }), {
    deadline: now() + OPEN_BUDGET_MS,
    ...options,
    alsoRetry: (error, attempt) => error instanceof NotFoundError && attempt < NOT_YET_ATTEMPTS
  })
}
