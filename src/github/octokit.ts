import * as core from '@actions/core'
import type { getOctokit } from '@actions/github'
import { DEFAULT_LIMITS, UnreadableAnswerError, withRetries, type CallLimits } from './retry.js'

export type Octokit = ReturnType<typeof getOctokit>

/** Octokits already given deadlines and retries; wrapping one twice would multiply its attempts. */
const wrapped = new WeakSet<object>()

/**
 * Gives every call of `octokit` a timeout, and retries transient failures (see isTransient) until
 * the deadline. It is safe for every call the action makes, writes included: a tree is content
 * addressed, a ref update and a label are idempotent, and the two creations that are not
 * (a ref, a pull request) answer 422 on a second attempt, which their callers resolve by looking
 * (see pull-request.ts). A commit created twice leaves one unreferenced object, never a second
 * commit on a branch. Returns the same octokit.
 */
export function reliable(octokit: Octokit, limits: CallLimits = DEFAULT_LIMITS): Octokit {
  if (wrapped.has(octokit)) return octokit
  wrapped.add(octokit)
  octokit.hook.wrap('request', async (request, options) => {
    const what = `GitHub ${options.method} ${String(options.url)}`
    return withRetries(
      what,
      async (signal) => {
        const response = await request({ ...options, request: { ...options.request, signal } })
        // octokit hands back an unparsable JSON body (an HTML error page with status 200) as a string.
        const readable = response.status < 200 || response.status >= 300 || response.status === 204 || (typeof response.data === 'object' && response.data !== null)
        if (!readable) throw new UnreadableAnswerError(`${what} answered ${response.status} with a body that is not JSON`)
        return response
      },
      limits,
      (error, n) => core.debug(`${what}: attempt ${n} failed (${(error as Error).message}); trying again.`)
    )
  })
  return octokit
}

/** An octokit for the repository's API, with deadlines and retries. */
export async function githubClient(token: string, limits: CallLimits = DEFAULT_LIMITS): Promise<Octokit> {
  const { getOctokit } = await import('@actions/github')
  return reliable(getOctokit(token), limits)
}
