/**
 * collect's pull request, run as the runner runs it (dist/index.js against the simulator and the
 * GitHub fake): the action writes only branches it owns.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { FAKE_TOKEN, GitHubFake, type FakeRun } from '../support/github-fake.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
let github: GitHubFake | undefined

afterEach(async () => {
  await simulator?.close()
  await github?.close()
  simulator = undefined
  github = undefined
})

const PROMPTS = { 'prompts/a.md': 'A.\n' }

async function step(run: FakeRun, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    workspace: await makeWorkspace(PROMPTS),
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'github-token': FAKE_TOKEN, 'poll-interval-seconds': '0.2', ...inputs },
    env: github!.envFor(run)
  })
}

/** Submits PROMPTS and returns the batch id; the simulator ends batches at once. */
async function submitted(): Promise<string> {
  simulator = await BatchSimulator.start({ processingMs: 0 })
  github = await GitHubFake.start()
  const result = await step(github.addRun(), {})
  expect(result.exitCode).toBe(0)
  return result.outputs['batch-id']!
}

const collect = (extra: Record<string, string>) => step(github!.addRun({ event: 'schedule' }), { command: 'collect', 'open-pr': 'true', ...extra })
// Records are named by the submission's tag; its manifest's name also carries the first batch id.
const resultsName = (batchId: string) => {
  const manifest = github!.artifacts().find((a) => a.name.startsWith('claude-batch-manifest-') && a.name.endsWith(`-${batchId}`))
  if (!manifest) throw new Error(`no manifest names ${batchId}`)
  return `claude-batch-results-${manifest.name.split('-')[3]}`
}
const resultsKept = (batchId: string) => github!.artifacts().some((a) => a.name === resultsName(batchId) && !a.deleted && a.finalized)

describe('pr-branch', () => {
  it('is never the default branch: main is left as it was, and the submission for the next run', async () => {
    const batchId = await submitted()
    const main = github!.branch('main')!.sha
    const result = await collect({ 'pr-branch': 'main' })
    expect(result.exitCode).toBe(1)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/pr-branch "main" is the repository's default branch/) }))
    expect(github!.branch('main')!.sha).toBe(main)
    expect(github!.pulls()).toEqual([])
    expect(resultsKept(batchId)).toBe(false)
  })

  it('is never the base named by pr-base', async () => {
    await submitted()
    const collected = await collect({ 'pr-branch': 'content/weekly' })
    expect(collected.exitCode).toBe(0)
    const before = github!.branch('content/weekly')!.sha
    // A second submission, collected into a pull request whose base is that same branch.
    await step(github!.addRun(), {})
    const result = await collect({ 'pr-branch': 'content/weekly', 'pr-base': 'content/weekly' })
    expect(result.exitCode).toBe(1)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/base of the pull request/) }))
    expect(github!.branch('content/weekly')!.sha).toBe(before)
  })

  it("refuses a branch holding someone else's commit, names both, and loses nothing", async () => {
    const batchId = await submitted()
    const first = await collect({ 'pr-branch': 'content/weekly' })
    expect(first.exitCode).toBe(0)
    const head = github!.commit(github!.branch('content/weekly')!.sha)!
    expect(head.message).toMatch(/\n\nGenerated-by: claude-batch-action\n$/)

    // Someone adds their work to the branch; the submission is collected again (its results deleted).
    const theirs = github!.pushFile('content/weekly', 'notes/mine.md', 'Mine\n', 'Add my notes')
    const results = github!.artifacts().find((a) => a.name === resultsName(batchId))!
    await fetch(`${github!.url}/repos/${github!.repository}/actions/artifacts/${results.id}`, { method: 'DELETE', headers: { authorization: `token ${FAKE_TOKEN}` } })
    const again = await collect({ 'pr-branch': 'content/weekly' })
    expect(again.exitCode).toBe(1)
    const error = again.annotations.find((a) => a.level === 'error')!.message
    expect(error).toContain('Branch "content/weekly"')
    expect(error).toContain(theirs.slice(0, 12))
    expect(error).toMatch(/Choose another pr-branch, or delete the branch/)
    expect(github!.branch('content/weekly')!.sha).toBe(theirs)
    expect(github!.fileAt('content/weekly', 'notes/mine.md')).toBe('Mine\n')
    expect(github!.pulls()).toHaveLength(1)
    expect(resultsKept(batchId)).toBe(false)
  })
})
