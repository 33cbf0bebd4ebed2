/**
 * The pull request against the GitHub fake, in-process: which branches the action may write, and
 * what a transient fault or a lost answer does to the branch and the pull request (faults injected
 * where octokit calls fetch; see faulty-fetch.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import { FAKE_TOKEN, GitHubFake } from '../support/github-fake.js'
import { makeWorkspace } from '../support/run-action.js'
import { openPullRequest, type PullRequestOptions } from '../../src/github/pull-request.js'
import { GENERATED_TRAILER } from '../../src/github/branch.js'
import type { CallLimits } from '../../src/github/retry.js'
import { faultyFetch, type FaultRule } from './faulty-fetch.js'

const LIMITS: CallLimits = { timeoutMs: 1_000, deadlineMs: 8_000, minDelayMs: 5, maxDelayMs: 20 }
let github: GitHubFake
let workspace: string

beforeEach(async () => {
  github = await GitHubFake.start()
  workspace = await makeWorkspace({ 'generated/a.md': 'Reply A\n', 'generated/b.md': 'Reply B\n' })
})
afterEach(async () => {
  await github.close()
})

function client(rules: FaultRule[] = []) {
  const faults = faultyFetch(rules)
  return { octokit: getOctokit(FAKE_TOKEN, { baseUrl: github.url, request: { fetch: faults.fetch } }), faults }
}

function options(overrides: Partial<PullRequestOptions> = {}): PullRequestOptions {
  const [owner, repo] = github.repository.split('/') as [string, string]
  return {
    owner,
    repo,
    workspace,
    files: ['generated/a.md', 'generated/b.md'],
    branch: 'claude-batch/msgbatch_1',
    title: 'Generated content',
    body: 'Summary',
    labels: ['generated'],
    draft: false,
    message: 'Add results of Claude batch msgbatch_1',
    limits: LIMITS,
    ...overrides
  }
}

/** Calls that change something on the fake (everything but reads). */
const writes = () => github.calls.filter((c) => c.method !== 'GET' && !c.path.includes('/actions/'))

/** Makes `branch` at main's head with one commit by someone else on it. */
async function foreignBranch(branch: string): Promise<string> {
  const { octokit } = client()
  const [owner, repo] = github.repository.split('/') as [string, string]
  await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: github.branch('main')!.sha })
  return github.pushFile(branch, 'notes/todo.md', 'My own work\n', 'Start the weekly notes')
}

describe('branches the action may write', () => {
  it('refuses the default branch as pr-branch before writing anything', async () => {
    const main = github.branch('main')!.sha
    const { octokit } = client()
    await expect(openPullRequest(octokit, options({ branch: 'main' }))).rejects.toThrow(/pr-branch "main" is the repository's default branch/)
    expect(github.branch('main')!.sha).toBe(main)
    expect(writes()).toEqual([])
    expect(github.pulls()).toEqual([])
  })

  it('refuses the base as pr-branch, also written as refs/heads/…', async () => {
    await foreignBranch('develop')
    const { octokit } = client()
    await expect(openPullRequest(octokit, options({ base: 'develop', branch: 'refs/heads/develop' }))).rejects.toThrow(/pr-branch "develop" is the base of the pull request/)
    expect(writes().filter((c) => c.path.includes('/git/'))).toHaveLength(1) // only foreignBranch's own createRef
  })

  it("refuses an existing branch with someone else's commit, naming the branch and the commit, and leaves it as it was", async () => {
    const theirs = await foreignBranch('content/weekly')
    const before = writes().length
    const { octokit } = client()
    const refused = openPullRequest(octokit, options({ branch: 'content/weekly' }))
    await expect(refused).rejects.toThrow(new RegExp(`Branch "content/weekly" has commit ${theirs.slice(0, 12)} \\("Start the weekly notes"\\)`))
    await expect(openPullRequest(octokit, options({ branch: 'content/weekly' }))).rejects.toThrow(/Choose another pr-branch, or delete the branch "content\/weekly"/)
    expect(github.branch('content/weekly')!.sha).toBe(theirs)
    expect(writes().length).toBe(before)
    expect(github.pulls()).toEqual([])
  })

  it('marks its commits with a trailer, and rebuilds its own branch on a base that moved on', async () => {
    const { octokit } = client()
    const first = await openPullRequest(octokit, options({ branch: 'content/weekly' }))
    expect(first.operation).toBe('created')
    const head = github.commit(github.branch('content/weekly')!.sha)!
    expect(head.message).toMatch(new RegExp(`\\n\\n${GENERATED_TRAILER}\\n$`))

    github.pushFile('main', 'docs/other.md', 'unrelated\n')
    github.pushFile('main', 'docs/more.md', 'more\n')
    const second = await openPullRequest(octokit, options({ branch: 'content/weekly', files: ['generated/a.md'] }))
    expect(second).toMatchObject({ operation: 'updated', number: first.number })
    const rebuilt = github.commit(github.branch('content/weekly')!.sha)!
    expect(rebuilt.parents).toEqual([github.branch('main')!.sha])
    expect(github.fileAt('content/weekly', 'docs/more.md')).toBe('more\n')
    expect(github.pulls()).toHaveLength(1)
  })

  it('refuses its own branch once someone pushed onto it', async () => {
    const { octokit } = client()
    await openPullRequest(octokit, options({ branch: 'content/weekly' }))
    const pushed = github.pushFile('content/weekly', 'generated/a.md', 'Edited by hand\n', 'Fix the wording')
    await expect(openPullRequest(octokit, options({ branch: 'content/weekly' }))).rejects.toThrow(new RegExp(`commit ${pushed.slice(0, 12)} \\("Fix the wording"\\)`))
    expect(github.branch('content/weekly')!.sha).toBe(pushed)
    expect(github.fileAt('content/weekly', 'generated/a.md')).toBe('Edited by hand\n')
  })

  it("refuses its own commit moved onto someone's work (the work is not on the base)", async () => {
    const theirs = await foreignBranch('content/weekly')
    // The action's commit, rebased by hand on top of that work.
    const { octokit } = client()
    const [owner, repo] = github.repository.split('/') as [string, string]
    const tree = github.commit(theirs)!.tree
    const ours = await octokit.rest.git.createCommit({ owner, repo, message: `Add results\n\n${GENERATED_TRAILER}\n`, tree, parents: [theirs] })
    await octokit.rest.git.updateRef({ owner, repo, ref: 'heads/content/weekly', sha: ours.data.sha, force: true })
    await expect(openPullRequest(octokit, options({ branch: 'content/weekly' }))).rejects.toThrow(new RegExp(`commit ${theirs.slice(0, 12)}`))
    expect(github.branch('content/weekly')!.sha).toBe(ours.data.sha)
  })
})

describe('transient faults and lost answers', () => {
  it('retries 5xx, an HTML page with status 200, a dropped connection and a hang, and opens one pull request', async () => {
    const { octokit, faults } = client([
      { method: 'GET', path: /\/repos\/[^/]+\/[^/]+$/, fault: { kind: 'html' } },
      { method: 'GET', path: /\/git\/ref\/heads%2Fmain|\/git\/ref\/heads\/main/, fault: { kind: 'status', status: 502 }, times: 2 },
      { method: 'POST', path: /\/git\/trees$/, fault: { kind: 'drop' } },
      { method: 'GET', path: /\/pulls\?/, fault: { kind: 'hang' } },
      { method: 'POST', path: /\/issues\/\d+\/labels$/, fault: { kind: 'status', status: 429 } }
    ])
    const started = Date.now()
    const pr = await openPullRequest(octokit, options())
    expect(pr.operation).toBe('created')
    expect(faults.faulted).toHaveLength(6)
    expect(Date.now() - started).toBeLessThan(LIMITS.deadlineMs)
    expect(github.pulls()).toHaveLength(1)
    expect(github.pulls()[0]!.labels).toEqual(['generated'])
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/b.md')).toBe('Reply B\n')
  })

  it('a branch creation whose answer was lost is found, not made again', async () => {
    const { octokit, faults } = client([{ method: 'POST', path: /\/git\/refs$/, fault: { kind: 'lost' } }])
    const pr = await openPullRequest(octokit, options())
    expect(faults.faulted).toHaveLength(1)
    expect(pr.operation).toBe('created')
    const head = github.commit(github.branch('claude-batch/msgbatch_1')!.sha)!
    expect(head.parents).toEqual([github.branch('main')!.sha])
    expect(github.pulls()).toHaveLength(1)
  })

  it('a pull request whose answer was lost is found, not opened twice', async () => {
    const { octokit, faults } = client([{ method: 'POST', path: /\/pulls$/, fault: { kind: 'lost' } }])
    const pr = await openPullRequest(octokit, options())
    expect(faults.faulted).toHaveLength(1)
    expect(github.pulls()).toHaveLength(1)
    expect(pr).toMatchObject({ number: github.pulls()[0]!.number, url: github.pulls()[0]!.html_url })
    expect(github.pulls()[0]!.labels).toEqual(['generated'])
  })

  it('a branch update whose answer was lost leaves one commit on the branch', async () => {
    const { octokit } = client()
    await openPullRequest(octokit, options())
    github.pushFile('main', 'docs/other.md', 'unrelated\n')
    const lossy = client([{ method: 'PATCH', path: /\/git\/refs\//, fault: { kind: 'lost' } }])
    const pr = await openPullRequest(lossy.octokit, options())
    expect(lossy.faults.faulted).toHaveLength(1)
    expect(pr.operation).toBe('updated')
    const head = github.commit(github.branch('claude-batch/msgbatch_1')!.sha)!
    expect(head.parents).toEqual([github.branch('main')!.sha])
    expect(github.pulls()).toHaveLength(1)
  })

  it('gives up at the deadline with the last error when GitHub keeps failing', async () => {
    const limits = { ...LIMITS, deadlineMs: 300 }
    const { octokit } = client([{ method: 'GET', path: /\/repos\/[^/]+\/[^/]+$/, fault: { kind: 'status', status: 503 }, times: 1000 }])
    const started = Date.now()
    await expect(openPullRequest(octokit, options({ limits }))).rejects.toMatchObject({ status: 503 })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(writes()).toEqual([])
  })

  it('does not retry an error that will not change (404)', async () => {
    const { octokit, faults } = client()
    await expect(openPullRequest(octokit, options({ base: 'no-such-branch' }))).rejects.toMatchObject({ status: 404 })
    expect(faults.calls.filter((c) => c.includes('no-such-branch'))).toHaveLength(1)
  })
})

describe('big pull requests', () => {
  const treeCalls = () => github.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/git/trees'))

  it('commits 1,200 files in one tree call (500 a call before)', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 1_200; i++) files[`generated/many/${String(i).padStart(4, '0')}.md`] = `Reply ${i}\n`
    const big = await makeWorkspace(files)
    const { octokit } = client()
    await openPullRequest(octokit, options({ workspace: big, files: Object.keys(files) }))
    expect(treeCalls()).toHaveLength(1)
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/many/1199.md')).toBe('Reply 1199\n')
  })

  it('splits by size: 5 MB of content goes in three calls, a file over the limit as a blob', async () => {
    const { TREE_CALL_BYTES } = await import('../../src/github/pull-request.js')
    const chunk = 'x'.repeat(1024 * 1024 - 100) + '\n'
    const files: Record<string, string> = { 'generated/huge.md': 'y'.repeat(TREE_CALL_BYTES + 10) }
    for (let i = 0; i < 5; i++) files[`generated/mb-${i}.md`] = chunk
    const big = await makeWorkspace(files)
    const { octokit } = client()
    await openPullRequest(octokit, options({ workspace: big, files: Object.keys(files).sort() }))
    // 1 blob + entries of about 1 MB each packed two to a 2 MB call, the huge one's sha with them.
    expect(github.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/git/blobs'))).toHaveLength(1)
    expect(treeCalls()).toHaveLength(3)
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/huge.md')).toHaveLength(TREE_CALL_BYTES + 10)
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/mb-4.md')).toBe(chunk)
  })

  it('splits a call in two when GitHub answers that it was too large to process', async () => {
    github.injectFault({
      method: 'POST',
      path: /\/git\/trees$/,
      kind: 'status',
      status: 422,
      message: "Sorry, your request timed out.  It's likely that your input was too large to process.  Consider building the tree incrementally"
    })
    const { octokit } = client()
    await openPullRequest(octokit, options())
    expect(treeCalls().map((c) => c.status)).toEqual([422, 201, 201])
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/a.md')).toBe('Reply A\n')
    expect(github.fileAt('claude-batch/msgbatch_1', 'generated/b.md')).toBe('Reply B\n')
  })
})
