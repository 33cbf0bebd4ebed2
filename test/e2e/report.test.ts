/**
 * What a user sees, through dist/index.js as a runner runs it, with the run's variables set
 * (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_RUN_ID) by the GitHub fake: the job
 * summary's links and folds, cancel's verdict, and a summary that cannot be written.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { FAKE_TOKEN, GitHubFake, type FakeRun } from '../support/github-fake.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
let github: GitHubFake | undefined
let shift = 0

afterEach(async () => {
  await simulator?.close()
  await github?.close()
  simulator = undefined
  github = undefined
  shift = 0
})

async function start(processingMs: number): Promise<void> {
  simulator = await BatchSimulator.start({ processingMs, now: () => Date.now() + shift })
  github = await GitHubFake.start()
}

async function step(run: FakeRun, workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'github-token': FAKE_TOKEN, 'poll-interval-seconds': '0.2', ...inputs },
    env: { ...github!.envFor(run), ...env }
  })
}

describe('the job summary', () => {
  it('links each source to its line at the commit and the manifest artifact, folds long tables, and sets the estimate beside the cost', async () => {
    await start(0)
    const files: Record<string, string> = { 'prompts/a b#1.md': 'Describe a lamp.\n' }
    for (let i = 0; i < 21; i++) files[`prompts/p${i}.md`] = `Describe item ${i}.\n`
    const run = github!.addRun()
    const result = await step(run, await makeWorkspace(files), { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    const s = result.summary

    // Each source at its line, at the commit that ran, its path encoded segment by segment.
    expect(s).toContain(`<a href="https://github.com/${github!.repository}/blob/${run.headSha}/prompts/a%20b%231.md#L1"><code>prompts/a b#1.md:1</code></a>`)
    // 22 requests: folded, with how many in the fold's label.
    expect(s).toMatch(/<details><summary>22 requests<\/summary>\s*<table>/)
    // The manifest, linked to its artifact.
    const id = result.outputs['manifest-artifact-id']!
    expect(s).toContain(`https://github.com/${github!.repository}/actions/runs/${run.id}/artifacts/${id}`)
    // The estimate and what it cost, side by side, with tokens per request.
    expect(s).toMatch(/<th>Estimated before sending<\/th><th>Actual<\/th>/)
    expect(s).toMatch(/<strong>Input tokens per request<\/strong><\/td><td>[\d,]+<\/td><td>[\d,]+<\/td>/)
    expect(s).toMatch(/<strong>Cost at batch prices<\/strong><\/td><td>at most \$[\d.]+<\/td><td>\$[\d.]+<\/td>/)
    // Prices of the model used, and of no other.
    expect(s).toContain('<code>claude-haiku-4-5</code>')
    expect(s).not.toMatch(/opus|sonnet|fable|Fable/)
    // No path that means nothing once the job is over.
    expect(s).not.toContain(result.runnerTemp)
    expect(s).toContain('results-file')
  })

  it('is a warning, not a failure, when it cannot be written', async () => {
    await start(0)
    const result = await step(
      github!.addRun(),
      await makeWorkspace({ 'prompts/a.md': 'A.\n' }),
      { 'dry-run': 'true' },
      { GITHUB_STEP_SUMMARY: path.join('/nonexistent-dir', 'summary.md') }
    )
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('dry-run')
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/Could not write the job summary/) }))
  })
})

describe('command: cancel', () => {
  it('succeeds when the cancel took effect: canceled requests are what was asked for', async () => {
    await start(60_000)
    const submitted = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }), {})
    const result = await step(github!.addRun({ event: 'workflow_dispatch' }), await makeWorkspace(), { command: 'cancel', 'batch-id': submitted.outputs['batch-id']! })
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'ended', canceled: '2', errored: '0' })
    expect(result.annotations.filter((a) => a.level === 'error')).toEqual([])
    expect(result.stdout).toMatch(/2 request\(s\) were canceled, as asked/)
  })

  it('still fails on requests that errored before the cancel, and annotates only those', async () => {
    await start(60_000)
    const files = { 'prompts/a.md': 'A. SIMULATE_ERROR:api_error\n', 'prompts/b.md': 'B. SIMULATE_ERROR:api_error\n' }
    const submitted = await step(github!.addRun(), await makeWorkspace(files), {})
    // Half-way: one request is done (it errored), the other is canceled.
    shift = 45_000
    const result = await step(github!.addRun({ event: 'workflow_dispatch' }), await makeWorkspace(files), { command: 'cancel', 'batch-id': submitted.outputs['batch-id']! })
    expect(result.outputs).toMatchObject({ status: 'ended', canceled: '1', errored: '1' })
    expect(result.exitCode).toBe(1)
    const errors = result.annotations.filter((a) => a.level === 'error')
    expect(errors[0]!.message).toMatch(/^1 request\(s\) did not succeed/)
    expect(errors.filter((a) => a.file)).toEqual([expect.objectContaining({ message: expect.stringMatching(/errored: api_error/) })])
    expect(errors.some((a) => /canceled/.test(a.message))).toBe(false)
  })
})
