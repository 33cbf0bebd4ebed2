import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatchIndividualResponse } from './client.js'

const NOT_YET_RETRIES_MS = [2_000, 5_000, 10_000]

/**
 * The result lines of an ended batch, streamed: the SDK decodes the JSONL response line by line and
 * follows `results_url` as given. A 404 straight after the end is the API catching up, so it is
 * retried a few times; a stream cut midway is the caller's to restart.
 */
export async function openResults(
  client: Anthropic,
  batchId: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
): Promise<AsyncIterable<MessageBatchIndividualResponse>> {
  for (const pause of [...NOT_YET_RETRIES_MS, undefined]) {
    try {
      return await client.messages.batches.results(batchId)
    } catch (error) {
      if (!(error instanceof NotFoundError) || pause === undefined) throw error
      await sleep(pause)
    }
  }
  throw new Error('unreachable')
}
