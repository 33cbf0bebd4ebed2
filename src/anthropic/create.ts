import { APIError, type Anthropic } from '@anthropic-ai/sdk'
import { describeError, type MessageBatch } from './client.js'

export interface CreateOptions {
  /** Makes a fresh body for each attempt: a streamed body can be read only once. */
  body: () => AsyncIterable<Uint8Array>
  /** How many requests the body holds: the one thing a batch in the list can be recognised by. */
  requestCount: number
  /** Batches this run made already, which a lost answer can never be. */
  known: ReadonlySet<string>
  log: (line: string) => void
  attempts?: number
  /** Waits between attempts and list checks; tests shorten them. */
  sleep?: (ms: number) => Promise<void>
  timeoutMs?: number
}

const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
// A batch made by a lost create should show in the list at once, but the API is eventually
// consistent (a new batch can 404 briefly), so the list is read again after these pauses.
const LIST_RECHECKS_MS = [0, 3_000, 10_000]

/**
 * Creates one batch, at most once. The SDK would retry a POST whose answer was lost and so could
 * leave two batches (batch-api.md §8), and the API has no idempotency key. So create is sent
 * without retries, and when its answer is lost (timeout, dropped connection, 5xx) the list of
 * batches is read to find the one it may have made before anything is sent again.
 */
export async function createBatch(client: Anthropic, options: CreateOptions): Promise<MessageBatch> {
  const { requestCount, log } = options
  const sleep = options.sleep ?? sleeper
  const attempts = options.attempts ?? 4
  const newest = await newestBatchId(client)
  const since = Date.now()

  for (let attempt = 1; ; attempt++) {
    try {
      return await client.post<MessageBatch>('/v1/messages/batches', {
        body: options.body(),
        headers: { 'content-type': 'application/json' },
        maxRetries: 0,
        timeout: options.timeoutMs ?? 600_000
      })
    } catch (error) {
      if (!answerMayBeLost(error) && !isRateLimit(error)) throw error
      if (attempt >= attempts) throw error
      if (isRateLimit(error)) {
        // A 429 is answered before anything is made.
        const wait = retryAfterMs(error) ?? 2_000 * attempt
        log(`Create was rate limited (${describeError(error)}); trying again in ${Math.round(wait / 1000)} s.`)
        await sleep(wait)
        continue
      }
      log(`The answer to create was lost (${describeError(error)}); looking for the batch it may have made.`)
      for (const pause of LIST_RECHECKS_MS) {
        await sleep(pause)
        const made = await findMadeBatch(client, { newest, since, requestCount, known: options.known })
        if (made) {
          log(`Found ${made.id}, made by the create whose answer was lost; using it rather than creating another.`)
          return made
        }
      }
      log(`No batch was made; sending create again (attempt ${attempt + 1} of ${attempts}).`)
      await sleep(1_000 * 2 ** attempt)
    }
  }
}

/** True when the server may have acted although no usable answer came back. */
function answerMayBeLost(error: unknown): boolean {
  if (!(error instanceof APIError)) return false
  // Connection errors and timeouts have no status; 408/409 and 5xx may come after the work was done.
  return error.status === undefined || error.status === 408 || error.status === 409 || error.status >= 500
}

function isRateLimit(error: unknown): boolean {
  return error instanceof APIError && error.status === 429
}

function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as APIError).headers
  const ms = Number(headers?.get('retry-after-ms'))
  if (ms > 0) return ms
  const seconds = Number(headers?.get('retry-after'))
  return seconds > 0 ? seconds * 1000 : undefined
}

async function newestBatchId(client: Anthropic): Promise<string | undefined> {
  const page = await client.messages.batches.list({ limit: 1 })
  return page.data[0]?.id
}

// Batches carry no label of ours, so a lost create is recognised as a batch newer than the newest
// before it, made since the attempt began (with a minute for clock skew), of exactly this size, and
// not one this run already holds.
async function findMadeBatch(
  client: Anthropic,
  w: { newest?: string; since: number; requestCount: number; known: ReadonlySet<string> }
): Promise<MessageBatch | undefined> {
  for await (const batch of client.messages.batches.list({ limit: 100 })) {
    if (batch.id === w.newest || Date.parse(batch.created_at) < w.since - 60_000) return undefined
    const counts = batch.request_counts
    const total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
    if (total === w.requestCount && !w.known.has(batch.id)) return batch
  }
  return undefined
}
