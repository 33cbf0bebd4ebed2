import * as core from '@actions/core'
import type { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { DEFAULT_LIMITS, markRetried, RateLimitedError, UnreadableAnswerError, withRetries, withTimeout, type CallLimits } from './retry.js'
import { info } from '../report/log.js'

export type Octokit = ReturnType<typeof getOctokit>

/*
 * Who retries what. Each failure has one owner, so nothing is retried by two layers (3 × 3 attempts
 * that outlive every deadline). From the innermost layer out:
 *
 * - attempt (this file): one HTTP attempt, with its timeout; a 2xx answer that is not JSON becomes
 *   UnreadableAnswerError. It retries nothing.
 * - @octokit/plugin-retry: only calls that ask for it with `request: { retries }`, i.e. adding labels
 *   right after opening a pull request, which GitHub refuses with a transient 422 ("Could not resolve
 *   to a node") until the new pull request is visible everywhere. Off for every other call (retries 0).
 * - @octokit/plugin-throttling: rate limits. Primary (x-ratelimit-remaining: 0): wait for the reset;
 *   secondary (a 403 or 429 that says so, and any other 429): wait retry-after, else 60 s, as GitHub
 *   asks. It also spaces writes as GitHub recommends (one at a time, 1 s apart; 3 s between ones that
 *   notify). A wait is taken only when it ends before the call's deadline and within the step's
 *   budget for such waits (RateLimitBudget); otherwise RateLimitedError says how long GitHub asked for.
 * - reliable (outermost): everything else that is transient (5xx, dropped connections, timeouts,
 *   unreadable answers), with backoff until the call's deadline (withRetries). Never a rate limit
 *   (the throttle has decided), never an HTTP error of a call whose retries plugin-retry owns.
 */

/** Total time one step may spend waiting out rate limits, over all its calls. */
export class RateLimitBudget {
  constructor(private leftMs: number) {}

  /** Takes `ms` from the budget when there is that much left. */
  take(ms: number): boolean {
    if (ms > this.leftMs) return false
    this.leftMs -= ms
    return true
  }
}

// A step that has waited ten minutes for GitHub's rate limits has better things to do: fail and say why.
const STEP_BUDGET = new RateLimitBudget(10 * 60_000)
// Rate-limit waits the throttle takes for one call; a third refusal in a row is not going to change.
const MAX_RATE_LIMIT_RETRIES = 3

export interface ClientOptions {
  limits?: CallLimits
  /** For tests: the fake's URL and fetch. */
  baseUrl?: string
  fetch?: typeof fetch
  budget?: RateLimitBudget
}

/** What the outer layer hands down to the inner ones with each call (in `options.request`). */
interface CallState {
  /** Epoch ms by which every attempt and wait of this call must be over. */
  deadlineAt?: number
  /** Set by the throttle when it saw a rate limit: what GitHub asked for. */
  rateLimit?: { kind: 'primary' | 'secondary'; retryAfterSeconds: number }
  /** Set by callers that want plugin-retry's retries (see above). */
  retries?: number
  signal?: AbortSignal
}

/** Octokits already given deadlines and retries; wrapping one twice would multiply its attempts. */
const wrapped = new WeakSet<object>()
/** Octokits built by githubClient: their attempts have their own timeout, inside the throttle. */
const layered = new WeakSet<object>()

/**
 * Gives every call of `octokit` a deadline, and retries transient failures (see isTransient) until
 * it. It is safe for every call the action makes, writes included: a tree is content addressed, a
 * ref update and a label are idempotent, and the two creations that are not (a ref, a pull request)
 * answer 422 on a second attempt, which their callers resolve by looking (see pull-request.ts). A
 * commit created twice leaves one unreferenced object, never a second commit on a branch. An
 * octokit from githubClient also has the throttle and plugin-retry inside (see above); on any other
 * this layer times each attempt itself. Returns the same octokit.
 */
export function reliable(octokit: Octokit, limits: CallLimits = DEFAULT_LIMITS): Octokit {
  if (wrapped.has(octokit)) return octokit
  wrapped.add(octokit)
  const inner = layered.has(octokit)
  octokit.hook.wrap('request', async (request, options) => {
    const what = `GitHub ${options.method} ${String(options.url)}`
    // before-after-hook binds one options object for every layer of a call, and only the innermost
    // may hand down another: what the layers tell each other goes into that object's `request`.
    const state = options.request as CallState
    state.deadlineAt = Date.now() + limits.deadlineMs
    const pluginRetries = inner && (state.retries ?? 0) > 0
    return withRetries(
      what,
      async (signal) => {
        delete state.rateLimit
        state.signal = signal
        try {
          return readable(what, await request(options))
        } catch (error) {
          if (state.rateLimit) throw rateLimited(what, state.rateLimit, error)
          if (pluginRetries && typeof (error as { status?: unknown }).status === 'number') throw markRetried(error)
          throw error
        }
      },
      // With the layers inside, an attempt here spans the throttle's waits: only the deadline bounds it.
      inner ? { ...limits, timeoutMs: limits.deadlineMs } : limits,
      (error, n) => core.debug(`${what}: attempt ${n} failed (${(error as Error).message}); trying again.`)
    )
  })
  return octokit
}

/** An octokit for the repository's API: attempts with timeouts, rate limits respected, deadlines and retries. */
export async function githubClient(token: string, options: ClientOptions | CallLimits = {}): Promise<Octokit> {
  const o: ClientOptions = 'deadlineMs' in options ? { limits: options } : options
  const limits = o.limits ?? DEFAULT_LIMITS
  const budget = o.budget ?? STEP_BUDGET
  const { getOctokit } = await import('@actions/github')
  const octokit = getOctokit(
    token,
    {
      ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}),
      ...(o.fetch ? { request: { fetch: o.fetch } } : {}),
      // 429 is the throttle's; 422 is retried only for calls that ask (the labels), as are the rest.
      retry: { retries: 0, doNotRetry: [400, 401, 403, 404, 410, 429, 451], retryAfterBaseValue: limits.minDelayMs },
      throttle: {
        onRateLimit: decide('primary', budget),
        onSecondaryRateLimit: decide('secondary', budget)
      }
    },
    attemptPlugin(limits),
    retry,
    throttling
  )
  layered.add(octokit)
  return reliable(octokit, limits)
}

/**
 * The innermost layer (registered first, so every other hook wraps it): one HTTP attempt with its
 * own timeout, also ended by the outer deadline's signal. A 429 or a "rate limit" 403 that the
 * throttle would not recognise (no "secondary rate" in the message, no exhausted quota header) is
 * named a secondary rate limit, as GitHub's documentation treats it, so the throttle owns it too.
 */
function attemptPlugin(limits: CallLimits) {
  return (octokit: { hook: Octokit['hook'] }): void => {
    octokit.hook.wrap('request', async (request, options) => {
      const what = `GitHub ${options.method} ${String(options.url)}`
      const outer = (options.request as CallState | undefined)?.signal
      const left = ((options.request as CallState | undefined)?.deadlineAt ?? Infinity) - Date.now()
      try {
        const response = await withTimeout(what, Math.max(1, Math.min(limits.timeoutMs, left)), async (signal) =>
          request({ ...options, request: { ...options.request, signal: outer ? AbortSignal.any([outer, signal]) : signal } })
        )
        return readable(what, response)
      } catch (error) {
        throw asSecondaryRateLimit(error)
      }
    })
  }
}

function asSecondaryRateLimit(error: unknown): unknown {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } }
  if (e?.status !== 429 && e?.status !== 403) return error
  const message = String(e.message)
  if (/\bsecondary rate\b/i.test(message) || e.response?.headers?.['x-ratelimit-remaining'] === '0') return error
  if (e.status === 403 && !/rate limit/i.test(message)) return error
  try {
    e.message = `${message} (a secondary rate limit)`
  } catch {
    // A frozen error keeps its message; the outer layer then reports it as it is.
  }
  return error
}

/** The throttle's question: wait `retryAfter` s and try again? Yes while the wait fits the deadline and the budget. */
function decide(kind: 'primary' | 'secondary', budget: RateLimitBudget) {
  return (retryAfter: number, options: { method?: string; url?: string; request?: CallState }, _octokit: unknown, retryCount: number): boolean => {
    const state = options.request
    if (state) state.rateLimit = { kind, retryAfterSeconds: retryAfter }
    const waitMs = retryAfter * 1000
    const deadlineAt = state?.deadlineAt ?? Date.now() + DEFAULT_LIMITS.deadlineMs
    // The attempt after the wait needs a moment of its own before the deadline.
    const fits = Date.now() + waitMs + 1_000 <= deadlineAt
    if (retryCount >= MAX_RATE_LIMIT_RETRIES || !fits || !budget.take(waitMs)) return false
    if (state) delete state.rateLimit
    info(`GitHub's ${kind} rate limit on ${options.method} ${options.url}: waiting ${retryAfter} s, as GitHub asks, before trying again.`)
    return true
  }
}

function rateLimited(what: string, limit: NonNullable<CallState['rateLimit']>, error: unknown): RateLimitedError {
  const asked =
    limit.kind === 'primary'
      ? `its API quota for this token is used up for ${limit.retryAfterSeconds} s more`
      : `it asked to wait ${limit.retryAfterSeconds} s (secondary rate limit)`
  return new RateLimitedError(
    `${what}: GitHub's rate limit: ${asked}, longer than this call may wait or after waiting as often as it may. Run again later, or spread the work over fewer runs.`,
    limit.retryAfterSeconds,
    (error as { status?: number }).status
  )
}

function readable<T extends { status: number; data: unknown }>(what: string, response: T): T {
  // octokit hands back an unparsable JSON body (an HTML error page with status 200) as a string.
  const ok = response.status < 200 || response.status >= 300 || response.status === 204 || (typeof response.data === 'object' && response.data !== null)
  if (!ok) throw new UnreadableAnswerError(`${what} answered ${response.status} with a body that is not JSON`)
  return response
}
