import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatchIndividualResponse } from './client.js'
import { MalformedAnswerError, withRetry, type RetryOptions } from './retry.js'

type Line = MessageBatchIndividualResponse

// Opening the stream (a status read, then the results URL) may take this long, retries included.
const OPEN_BUDGET_MS = 180_000
// A 404 straight after the end is the API catching up (anthropic-sdk-python#1432): tried this many times.
const NOT_YET_ATTEMPTS = 4

/**
 * The result lines of an ended batch, streamed: the SDK decodes the JSONL response line by line and
 * follows `results_url` as given. Opening the stream — up to and including its first line, so that
 * an HTML page sent with status 200 counts as a failed open — is retried like any idempotent call
 * (a 500, a dropped connection, a body that is not JSONL), and a 404 straight after the end a few
 * times too. A stream cut midway is the caller's to restart, since only it knows which lines it took.
 */
export async function openResults(
  client: Anthropic,
  batchId: string,
  options: Pick<RetryOptions, 'deadline' | 'timeoutMs' | 'log' | 'sleep' | 'now'> = {}
): Promise<AsyncIterable<Line>> {
  const now = options.now ?? Date.now
  return withRetry(
    `opening the results of ${batchId}`,
    async (o) => {
      // The SDK fetches results_url as given, with the key: it must be the API's own origin.
      const batch = await client.messages.batches.retrieve(batchId, {}, { ...o, maxRetries: 0 })
      if (batch.results_url && new URL(batch.results_url, client.baseURL).origin !== new URL(client.baseURL).origin) {
        throw new ForeignResultsUrlError(batchId, batch.results_url, client.baseURL)
      }
      const lines = (await client.messages.batches.results(batchId, {}, { ...o, maxRetries: 0 }))[Symbol.asyncIterator]()
      const first = await lines.next()
      if (!first.done && !isResultLine(first.value)) throw new MalformedAnswerError(`the results of ${batchId}`)
      return prepend(first, lines)
    },
    { deadline: now() + OPEN_BUDGET_MS, ...options, alsoRetry: (error, attempt) => error instanceof NotFoundError && attempt < NOT_YET_ATTEMPTS }
  )
}

/** A results_url on another host than the API's: following it would hand that host the API key. */
export class ForeignResultsUrlError extends Error {
  constructor(batchId: string, url: string, base: string) {
    super(
      `The results of ${batchId} are said to be at ${JSON.stringify(new URL(url).origin)}, not at the API (${JSON.stringify(new URL(base).origin)}); they were not fetched, so that the API key is not sent there. Check anthropic-base-url and any proxy in front of the API.`
    )
    this.name = 'ForeignResultsUrlError'
  }
}

function isResultLine(value: unknown): boolean {
  const line = value as Partial<Line> | null
  return typeof line === 'object' && line !== null && typeof line.custom_id === 'string' && typeof line.result === 'object'
}

/** The stream again, the line already read first. */
async function* prepend(first: IteratorResult<Line>, rest: AsyncIterator<Line>): AsyncIterable<Line> {
  if (first.done) return
  yield first.value
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value
}
