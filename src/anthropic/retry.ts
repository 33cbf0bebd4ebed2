import pRetry, { AbortError } from 'p-retry'
import { APIError } from '@anthropic-ai/sdk'
import { describeError, headerOf, isErrorLike, statusOf } from './client.js'

/** What each attempt gets: a signal that is aborted when its time is up, and that time in ms. */
export interface AttemptOptions {
  signal: AbortSignal
  timeout: number
}

export interface RetryOptions {
  /** Epoch ms the call never runs past, retries included (default: 2 minutes from now). */
  deadline?: number
  /** The longest one attempt may take (default 60 s); less when the deadline is nearer. */
  timeoutMs?: number
  /** Told of each failed attempt that will be tried again. */
  log?: (line: string) => void
  /** Extra errors worth another try, e.g. a 404 right after a batch was made; `attempt` counts from 1. */
  alsoRetry?: (error: unknown, attempt: number) => boolean
  /** Tests make time pass without waiting. */
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

const DEFAULT_BUDGET_MS = 120_000
const DEFAULT_TIMEOUT_MS = 60_000
const FIRST_DELAY_MS = 1_000
const MAX_DELAY_MS = 15_000

/** An attempt that got no answer in its time. */
export class CallTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`did not answer within ${seconds(timeoutMs)} s`)
    this.name = 'CallTimeoutError'
  }
}

/**
 * An answer of the wrong shape, e.g. a proxy's HTML page sent with status 200 and a text content
 * type, which the SDK hands back as a string instead of failing. Transient, like a body that is not JSON.
 */
export class MalformedAnswerError extends Error {
  constructor(what: string) {
    super(`the API's answer to ${what} was not what the API sends`)
    this.name = 'MalformedAnswerError'
  }
}

/** A call that kept failing until its deadline. Only idempotent calls go through withRetry, so nothing was spent. */
export class RetryDeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    override readonly cause: unknown
  ) {
    super(
      `${capitalise(what)} did not succeed in time: ${attempts} attempt${attempts === 1 ? '' : 's'} over ${seconds(elapsedMs)} s, ` +
        `the last ${cause instanceof CallTimeoutError ? cause.message : `failed with ${describeError(cause)}`}. ` +
        'Nothing was spent by this call.'
    )
    this.name = 'RetryDeadlineError'
  }
}

/**
 * Runs an idempotent API call (retrieve, list, results, models, count_tokens; never create) until it
 * succeeds, a failure proves it never will, or the deadline comes. Transient failures — 408, 409,
 * 429, 5xx and 529, dropped connections, timeouts, an answer that is not JSON — are tried again
 * after a backoff of 1 s doubling to 15 s, or after the server's retry-after when it gives one
 * (but at least 0.1 s doubling).
 * Anything else (400, 401, 403, 404, …) is thrown at once, unchanged, so callers can still tell a
 * missing batch or a bad key apart.
 *
 * Each attempt gets a timeout of min(timeoutMs, time left) and a signal aborted when it runs out;
 * pass both to the SDK with `maxRetries: 0`, so the SDK's own retries do not multiply these:
 *
 *   withRetry(`listing batches`, (o) => client.messages.batches.list({ limit: 20 }, { ...o, maxRetries: 0 }), { deadline, log })
 *
 * (or, for helpers that take a client, `(o) => lookupModel(forAttempt(client, o), model)`).
 * The call is also raced against its timeout, so even a call that ignores the signal cannot hold
 * the caller past the deadline. When the deadline comes first, throws RetryDeadlineError, which
 * says what failed and that nothing was spent.
 */
export async function withRetry<T>(what: string, call: (o: AttemptOptions) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const started = now()
  const deadline = options.deadline ?? started + DEFAULT_BUDGET_MS
  let last: unknown = new CallTimeoutError(0)
  let attempts = 0
  const giveUp = () => new RetryDeadlineError(what, attempts, now() - started, last)

  return pRetry(
    async (attempt) => {
      const left = deadline - now()
      if (left <= 0) throw new AbortError(giveUp())
      attempts = attempt
      try {
        return await timed(call, Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, left))
      } catch (error) {
        last = error
        if (!isTransient(error) && !options.alsoRetry?.(error, attempt)) throw new AbortError(asError(error))
        // p-retry rethrows a TypeError it does not know as a network error: wrap them all alike.
        throw new Retryable(error)
      }
    },
    {
      retries: Number.POSITIVE_INFINITY,
      // The waits are ours (retry-after, deadline, injectable sleep): p-retry adds none.
      minTimeout: 0,
      onFailedAttempt: async ({ attemptNumber }) => {
        const wait = delayMs(last, attemptNumber)
        if (now() + wait >= deadline) throw giveUp()
        options.log?.(`${capitalise(what)}: ${describeFailure(last)}; trying again in ${seconds(wait)} s.`)
        await sleep(wait)
      }
    }
  ).catch((error: unknown) => {
    // p-retry hands back the AbortError's original error, which for non-transient ones is the SDK's own.
    throw error instanceof Retryable ? giveUp() : error
  })
}

/** True for failures that say nothing about the request itself and may pass on their own. */
export function isTransient(error: unknown): boolean {
  if (error instanceof CallTimeoutError || error instanceof MalformedAnswerError) return true
  if (error instanceof APIError) {
    const hint = headerOf(error, 'x-should-retry')
    if (hint === 'true') return true
    if (hint === 'false') return false
    // No status: the connection failed or timed out (APIConnectionError and its subclasses).
    const status = statusOf(error)
    if (status === undefined) return true
    return [408, 409, 429].includes(status) || status >= 500
  }
  // A 200 whose body is an HTML page makes the SDK's JSON.parse throw.
  // Checked by name: undici's JSON.parse may run in another realm (tests) where instanceof fails.
  if (isErrorLike(error) && error.name === 'SyntaxError') return true
  return isDroppedConnection(error)
}

/** undici's "terminated" / "fetch failed" and socket errors: the connection went away mid-call. */
export function isDroppedConnection(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; isErrorLike(e) && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|UND_ERR_)/.test(code)) return true
    if (e.name === 'TypeError' && /^(terminated|fetch failed)$/.test(e.message)) return true
    if (/other side closed|socket hang up/i.test(e.message)) return true
  }
  return false
}

/** The server's requested pause: retry-after-ms, then retry-after in seconds or as an HTTP date. */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (!(error instanceof APIError)) return undefined
  const ms = Number(headerOf(error, 'retry-after-ms') ?? NaN)
  if (ms >= 0 && Number.isFinite(ms)) return ms
  const header = headerOf(error, 'retry-after')
  if (!header) return undefined
  const secs = Number(header)
  if (secs >= 0 && Number.isFinite(secs)) return secs * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * The server's retry-after when it gives one, but never below 0.1 s doubling each attempt (a proxy
 * answering "retry after 1 ms" through a long outage would otherwise be called thousands of times);
 * without one, the backoff.
 */
function delayMs(error: unknown, attempt: number): number {
  const asked = retryAfterMs(error)
  return asked === undefined ? backoffMs(attempt) : Math.max(asked, Math.min(100 * 2 ** (attempt - 1), MAX_DELAY_MS))
}

/** 1 s, 2 s, 4 s … up to 15 s, less up to a quarter at random so that parallel runs spread out. */
function backoffMs(attempt: number): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS)
  return Math.round(base * (1 - Math.random() * 0.25))
}

async function timed<T>(call: (o: AttemptOptions) => Promise<T>, timeout: number): Promise<T> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new CallTimeoutError(timeout))
      reject(new CallTimeoutError(timeout))
    }, timeout)
  })
  try {
    return await Promise.race([call({ signal: controller.signal, timeout }), expired])
  } catch (error) {
    // The SDK reports our abort as its own abort or timeout error: say what happened instead.
    throw controller.signal.aborted ? new CallTimeoutError(timeout) : error
  } finally {
    clearTimeout(timer)
  }
}

class Retryable extends Error {
  constructor(override readonly cause: unknown) {
    super('retryable')
  }
}

function asError(error: unknown): Error {
  return isErrorLike(error) ? error : new Error(String(error))
}

function describeFailure(error: unknown): string {
  return error instanceof CallTimeoutError ? `the API ${error.message}` : describeError(error)
}

function seconds(ms: number): string {
  return ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000))
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
