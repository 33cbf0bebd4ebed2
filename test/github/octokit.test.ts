/**
 * The layers of githubClient against the GitHub fake: rate limits are waited out as GitHub asks
 * (403 secondary with retry-after, 429, an exhausted quota), but never past the call's deadline or
 * the step's budget; a 5xx is retried by one layer only; labels added right after opening a pull
 * request are retried on GitHub's transient 422.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { FAKE_TOKEN, GitHubFake } from '../support/github-fake.js'
import { makeWorkspace } from '../support/run-action.js'
import { githubClient, RateLimitBudget } from '../../src/github/octokit.js'
import { openPullRequest } from '../../src/github/pull-request.js'
import { RateLimitedError, type CallLimits } from '../../src/github/retry.js'

const LIMITS: CallLimits = { timeoutMs: 2_000, deadlineMs: 8_000, minDelayMs: 5, maxDelayMs: 20 }
const SECONDARY = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
let github: GitHubFake
let owner: string
let repo: string

beforeEach(async () => {
  github = await GitHubFake.start()
  ;[owner, repo] = github.repository.split('/') as [string, string]
})
afterEach(async () => {
  await github.close()
})

const client = (budget = new RateLimitBudget(60_000), limits = LIMITS) => githubClient(FAKE_TOKEN, { baseUrl: github.url, limits, budget })
const repoCalls = () => github.calls.filter((c) => c.method === 'GET' && c.path === `/repos/${github.repository}`)

describe('rate limits', () => {
  it('waits the retry-after of a secondary rate limit (403), then succeeds', async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 403, message: SECONDARY, headers: { 'retry-after': '1' } })
    const started = Date.now()
    const octokit = await client()
    expect((await octokit.rest.repos.get({ owner, repo })).data.default_branch).toBe('main')
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(repoCalls().map((c) => c.status)).toEqual([403, 200])
  })

  it('takes any 429 as a secondary rate limit and waits its retry-after', async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 429, headers: { 'retry-after': '1' } })
    const started = Date.now()
    await (await client()).rest.repos.get({ owner, repo })
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(repoCalls().map((c) => c.status)).toEqual([429, 200])
  })

  it('waits for the reset of an exhausted quota (primary rate limit)', async () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 1)
    github.injectFault({
      method: 'GET',
      path: `/repos/${github.repository}`,
      kind: 'status',
      status: 403,
      message: 'API rate limit exceeded for installation ID 1.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }
    })
    await (await client()).rest.repos.get({ owner, repo })
    expect(repoCalls().map((c) => c.status)).toEqual([403, 200])
  })

  it("fails at once, saying how long GitHub asked for, when the wait would outlast the call's deadline", async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 403, message: SECONDARY, headers: { 'retry-after': '600' }, times: Infinity })
    const started = Date.now()
    const error = await (await client()).rest.repos.get({ owner, repo }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect((error as Error).message).toMatch(/wait 600 s/)
    expect(Date.now() - started).toBeLessThan(2_000)
    // Not retried by the outer layer either: the throttle owns rate limits.
    expect(repoCalls()).toHaveLength(1)
  })

  it("stops waiting once the step's budget for rate-limit waits is spent", async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 429, headers: { 'retry-after': '1' }, times: Infinity })
    const error = await (await client(new RateLimitBudget(500))).rest.repos.get({ owner, repo }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(repoCalls()).toHaveLength(1)
  })
})

describe('one layer per failure', () => {
  it('retries a 502 once per failure, not once per layer', async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 502, times: 2 })
    await (await client()).rest.repos.get({ owner, repo })
    expect(repoCalls().map((c) => c.status)).toEqual([502, 502, 200])
  })

  it('does not retry a 422 of a call that did not ask for it', async () => {
    github.injectFault({ method: 'GET', path: `/repos/${github.repository}`, kind: 'status', status: 422 })
    await expect((await client()).rest.repos.get({ owner, repo })).rejects.toMatchObject({ status: 422 })
    expect(repoCalls()).toHaveLength(1)
  })
})

describe('labels right after opening a pull request', () => {
  it("are retried on GitHub's transient 422 and end up on the pull request", async () => {
    const workspace = await makeWorkspace({ 'generated/a.md': 'Reply A\n' })
    github.injectFault({ method: 'POST', path: /\/labels$/, kind: 'status', status: 422, message: "Could not resolve to a node with the global id of 'PR_kwDO'", times: 2 })
    const pr = await openPullRequest(await client(), {
      owner,
      repo,
      workspace,
      files: ['generated/a.md'],
      branch: 'claude-batch/msgbatch_1',
      title: 'Generated content',
      body: 'Summary',
      labels: ['generated'],
      draft: false,
      message: 'Add results',
      limits: LIMITS
    })
    expect(pr.operation).toBe('created')
    expect(github.calls.filter((c) => c.path.endsWith('/labels')).map((c) => c.status)).toEqual([422, 422, 200])
    expect(github.pulls()[0]!.labels).toEqual(['generated'])
  }, 20_000)
})
