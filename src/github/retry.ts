import pRetry, { AbortError } from 'p-retry'

/**
 * Deadlines and retries for calls to GitHub (REST and the artifact service). A call that does not
 * answer in `timeoutMs` is abandoned; a transient failure is tried again with backoff until
 * `deadlineMs` after the first attempt. Anything else fails at once: retrying a 404 or a 422
 * only delays the error the user needs to read.
 */
export interface CallLimits {
  /** One attempt; after this it is abandoned (and aborted, where the call takes a signal). */
  timeoutMs: number
  /** All attempts of one call together, backoff included. */
  deadlineMs: number
  /** First backoff; it doubles up to `maxDelayMs`. */
  minDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_LIMITS: CallLimits = { timeoutMs: 30_000, deadlineMs: 120_000, minDelayMs: 1_000, maxDelayMs: 15_000 }

/** An answer that arrived but cannot be read (an HTML error page with status 200, a cut body). */
export class UnreadableAnswerError extends Error {
  override readonly name = 'UnreadableAnswerError'
}

/** An attempt that did not answer within its timeout. */
export class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError'
}

/**
 * GitHub's rate limit outlasts what a call may wait (see octokit.ts): not retried, since the
 * throttle has already waited what it could. `retryAfterSeconds` is what GitHub asked for.
 */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly status?: number
  ) {
    super(message)
  }
}

const RETRIED = Symbol('retried by its owner')

/** Marks `error` as retried already by the layer that owns it (see octokit.ts): withRetries leaves it. */
export function markRetried<E>(error: E): E {
  if (error && typeof error === 'object') Object.defineProperty(error, RETRIED, { value: true })
  return error
}

// 408 request timeout, 429 rate limit, 5xx: GitHub's own answers for "try again".
const TRANSIENT_STATUS = new Set([408, 429])

/** True for failures worth another attempt: timeouts, rate limits, 5xx, dropped connections, unreadable answers. */
export function isTransient(error: unknown): boolean {
  if (error instanceof UnreadableAnswerError || error instanceof CallTimeoutError) return true
  if (error instanceof RateLimitedError || (error && typeof error === 'object' && RETRIED in error)) return false
  const e = error as { status?: unknown; code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined
  if (!e || typeof e !== 'object') return false
  if (typeof e.status === 'number') {
    // octokit reports a dropped connection or an aborted fetch as status 500, which is retried anyway.
    if (TRANSIENT_STATUS.has(e.status) || e.status >= 500) return true
    // A secondary rate limit is a 403 that says so.
    return e.status === 403 && /rate limit/i.test(String(e.message))
  }
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true
  const code = typeof e.code === 'string' ? e.code : ''
  if (/^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR_)/.test(code)) return true
  if (/fetch failed|socket hang up|other side closed|terminated|network/i.test(String(e.message))) return true
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause)
}

/**
 * Runs `attempt` with a timeout: the signal it gets is aborted when the time is up, and the
 * promise rejects with CallTimeoutError then even if `attempt` ignores the signal.
 */
export async function withTimeout<T>(what: string, timeoutMs: number, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CallTimeoutError(`${what} did not answer within ${Math.round(timeoutMs / 100) / 10} s`)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  try {
    return await Promise.race([attempt(controller.signal), timedOut])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the deadline passes. `onRetry` hears each
 * transient failure (for a debug line); the error that remains is the last one.
 */
export async function withRetries<T>(
  what: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  limits: CallLimits = DEFAULT_LIMITS,
  onRetry?: (error: unknown, attemptNumber: number) => void
): Promise<T> {
  const started = Date.now()
  // An attempt squeezed into the last moments of the deadline could only time out, and its
  // timeout would hide the error worth reporting: stop with that one instead.
  const shortest = Math.min(limits.timeoutMs, 1_000, limits.deadlineMs / 4)
  let lastError: unknown
  return pRetry(
    async (attemptNumber) => {
      const left = limits.deadlineMs - (Date.now() - started)
      if (attemptNumber > 1 && left < shortest) throw new AbortError(lastError as Error)
      try {
        return await withTimeout(what, Math.min(limits.timeoutMs, left), attempt)
      } catch (error) {
        lastError = error
        throw error
      }
    },
    {
      retries: 1000, // bounded by the deadline, not a count
      minTimeout: limits.minDelayMs,
      maxTimeout: limits.maxDelayMs,
      factor: 2,
      randomize: true,
      maxRetryTime: limits.deadlineMs,
      // Not unref'd: the wait between attempts must keep the process alive (an unref'd timer let
      // Node exit mid-step with code 13, unsettled top-level await).
      shouldRetry: ({ error }) => isTransient(error) && Date.now() - started + limits.minDelayMs < limits.deadlineMs,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (isTransient(error)) onRetry?.(error, attemptNumber)
      }
    }
  )
}
