import { APIError, type Anthropic } from '@anthropic-ai/sdk'
import { describeError, type MessageBatch } from './client.js'
import { retryAfterMs, withRetry, type AttemptOptions } from './retry.js'
import { statusOf } from './client.js'
import { total } from './counts.js'

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
 * What a create led to: the batch the API answered with, or, when the answer was lost, the batches
 * in the list that it may have made. Those are only candidates: batches carry no label, so a batch
 * of the same size made by someone else at the same moment looks the same. Which one (if any) is
 * this submission's is proved later by its result ids, before anything is written from it.
 */
export type Created = { verified: true; batch: MessageBatch } | { verified: false; candidates: MessageBatch[] }

/** A create that failed, and whether a batch may nevertheless have been made (and billed). */
export class CreateError extends Error {
  constructor(
    message: string,
    readonly mayHaveMade: boolean,
    options?: { cause?: unknown },
    /** Refused for its rate (429) after every retry: the rate limit, or the organisation's batch queue is full. */
    readonly rateLimited = false
  ) {
    super(message, options)
  }
}

/**
 * Creates one batch, at most once. The SDK would retry a POST whose answer was lost and so could
 * leave two batches (batch-api.md §8), and the API has no idempotency key. So create is sent
 * without retries, and when its answer is lost (timeout, dropped connection, 5xx, a body that does
 * not parse) the list of batches is read before anything is sent again: if it shows batches that
 * the lost create may have made, they are returned as candidates and nothing is sent again.
 */
export async function createBatch(client: Anthropic, options: CreateOptions): Promise<Created> {
  const { requestCount, log } = options
  const sleep = options.sleep ?? sleeper
  const attempts = options.attempts ?? 4
  const newest = await listed('read the newest batch before creating', (o) => newestBatchId(client, o), false)
  const since = Date.now()

  for (let attempt = 1; ; attempt++) {
    try {
      const batch = await client.post<MessageBatch>('/v1/messages/batches', {
        body: options.body(),
        headers: { 'content-type': 'application/json' },
        maxRetries: 0,
        timeout: options.timeoutMs ?? 600_000
      })
      if (!batch || typeof batch.id !== 'string') throw new SyntaxError('the answer to create is not a batch')
      return { verified: true, batch }
    } catch (error) {
      if (isRejected(error)) throw new CreateError(`The API refused the batch: ${describeError(error)}. Nothing was created.`, false, { cause: error })
      if (isRateLimit(error)) {
        if (attempt >= attempts) throw new CreateError(`Create was rate limited ${attempts} times (${describeError(error)}). Nothing was created.`, false, { cause: error }, true)
        // A 429 is answered before anything is made.
        const wait = retryAfterMs(error) ?? 2_000 * attempt
        log(`Create was rate limited (${describeError(error)}); trying again in ${Math.round(wait / 1000)} s.`)
        await sleep(wait)
        continue
      }
      log(`The answer to create was lost (${describeError(error)}); looking for the batch it may have made.`)
      for (const pause of LIST_RECHECKS_MS) {
        await sleep(pause)
        const made = await listed('look for the batch a lost create may have made', (o) => findMadeBatches(client, { newest, since, requestCount, known: options.known }, o), true)
        if (made.length) {
          log(
            `Found ${made.map((b) => b.id).join(', ')} in the list, made since this create was sent and of its size; it is taken as this submission's only if its result ids prove it.`
          )
          return { verified: false, candidates: made }
        }
      }
      if (attempt >= attempts) {
        throw new CreateError(`Create failed ${attempts} times (${describeError(error)}), and the batch list shows no batch made by it.`, false, { cause: error })
      }
      log(`No batch was made; sending create again (attempt ${attempt + 1} of ${attempts}).`)
      await sleep(1_000 * 2 ** attempt)
    }
  }
}

/** Lists with retries; a list that still fails after a lost create leaves it unknown whether a batch was made. */
async function listed<T>(what: string, call: (o: AttemptOptions) => Promise<T>, afterLostCreate: boolean): Promise<T> {
  try {
    return await withRetry(what, call)
  } catch (error) {
    const made = afterLostCreate ? ' A batch may have been made (and billed) by the create whose answer was lost.' : ' Nothing was created.'
    throw new CreateError(`Could not ${what}: ${describeError(error)}.${made}`, afterLostCreate, { cause: error })
  }
}

/** A definite refusal: the API answered, and nothing was made. */
function isRejected(error: unknown): boolean {
  const status = error instanceof APIError ? statusOf(error) : undefined
  return status !== undefined && status >= 400 && status < 500 && ![408, 409, 429].includes(status)
}

function isRateLimit(error: unknown): boolean {
  return error instanceof APIError && error.status === 429
}

async function newestBatchId(client: Anthropic, o: AttemptOptions): Promise<string | undefined> {
  const page = await client.messages.batches.list({ limit: 1 }, { ...o, maxRetries: 0 })
  return page.data[0]?.id
}

// The batches a lost create may have made: newer than the newest before it, made since the attempt
// began (with a minute for clock skew), of exactly this size, and not one this run already holds.
async function findMadeBatches(
  client: Anthropic,
  w: { newest?: string; since: number; requestCount: number; known: ReadonlySet<string> },
  o: AttemptOptions
): Promise<MessageBatch[]> {
  const made: MessageBatch[] = []
  const page = await client.messages.batches.list({ limit: 100 }, { ...o, maxRetries: 0 })
  for (const batch of page.data) {
    if (batch.id === w.newest || Date.parse(batch.created_at) < w.since - 60_000) break
    if (total(batch) === w.requestCount && !w.known.has(batch.id)) made.push(batch)
  }
  return made
}
