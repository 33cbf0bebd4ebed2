/**
 * No orphan, never a half-told story: the faults of the trust issue (a create whose answer is garbled,
 * a lost create whose batch list cannot be read, a split submission whose third create fails, a
 * manifest that cannot be uploaded), each followed by the collect a user would run next. The bundled
 * action runs as separate processes against the Batch API simulator and the GitHub fake.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
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

async function start(): Promise<void> {
  simulator = await BatchSimulator.start({ processingMs: 0 })
  github = await GitHubFake.start()
}

const PROMPTS = { 'prompts/a.md': 'Alpha.\n', 'prompts/b.md': 'Beta.\n', 'prompts/c.md': 'Gamma.\n' }

async function step(run: FakeRun, workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'github-token': FAKE_TOKEN, 'poll-interval-seconds': '0.2', ...inputs },
    env: { ...github!.envFor(run), ...env }
  })
}

const names = () =>
  github!
    .artifacts()
    .filter((a) => !a.deleted)
    .map((a) => a.name)
// Why the step failed: the last error of no file (src/report/annotations.ts emits those as raised, the failure last).
const failure = (r: ActionRun) => r.annotations.filter((a) => a.level === 'error' && !a.file).at(-1)?.message ?? ''
const generated = async (workspace: string) => (await readdir(path.join(workspace, 'generated')).catch(() => [] as string[])).sort()

describe('a create whose answer is garbled after the batch was made', () => {
  it('finds that batch, proves it by its result ids, and writes its results: one batch, nothing orphaned', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'cut-stream', afterBytes: 20 })
    const workspace = await makeWorkspace(PROMPTS)
    const result = await step(github!.addRun(), workspace, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches()).toHaveLength(1)
    expect(result.outputs).toMatchObject({ status: 'ended', succeeded: '3', 'batch-id': simulator!.batches()[0]!.id })
    expect(await generated(workspace)).toEqual(['a.md', 'b.md', 'c.md'])
    expect(await readFile(path.join(workspace, 'generated/b.md'), 'utf8')).toMatch(/Beta/)
  })
})

describe('a lost create answer, and a batch list that cannot be read', () => {
  it('fails saying a batch may exist and the journal records it; the next collect finds it and writes it', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer', status: 500 })
    // The list read before the create succeeds; every later one fails.
    simulator!.injectFault({ method: 'GET', path: '/v1/messages/batches', kind: 'status', status: 401, after: 1, times: Infinity })
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '1' })
    expect(submitted.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(1)
    expect(failure(submitted)).toMatch(/may have been made.*journal claude-batch-journal-[a-z2-9]{8} records this submission|journal/)
    expect(names()).toEqual([expect.stringMatching(/^claude-batch-journal-/)])

    simulator!.clearFaults()
    const later = await makeWorkspace(PROMPTS)
    const collected = await step(github!.addRun({ event: 'schedule' }), later, { command: 'collect' })
    expect(collected.exitCode).toBe(0)
    expect(collected.stdout).toMatch(/in the batch list for the unfinished record/)
    expect(collected.outputs).toMatchObject({ status: 'ended', succeeded: '3' })
    expect(await generated(later)).toEqual(['a.md', 'b.md', 'c.md'])
    expect(names().filter((n) => n.startsWith('claude-batch-results-'))).toHaveLength(1)

    const again = await step(github!.addRun({ event: 'schedule' }), await makeWorkspace(PROMPTS), { command: 'collect' })
    expect(again.stdout).toMatch(/0 pending submission\(s\) found/)
  })
})

describe('a split submission whose third create is refused', () => {
  it('keeps the two batches made in the manifest and outputs, says what was not sent, and collect writes those two', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'status', status: 400, after: 2 })
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '0' }, { CLAUDE_BATCH_TEST_MAX_REQUESTS: '1' })
    expect(submitted.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(2)
    expect(JSON.parse(submitted.outputs['batch-ids']!)).toEqual(simulator!.batches().map((b) => b.id))
    expect(failure(submitted)).toMatch(/refused the batch.*2 batches were made .*the manifest records them.*1 request was not submitted: run submit again/)
    const manifest = github!.artifacts().find((a) => a.name.startsWith('claude-batch-manifest-'))!
    const record = JSON.parse(String((await manifest.files())['manifest.json']))
    expect(record).toMatchObject({ complete: false, chunks: [1, 1, 1] })
    expect(record.batches.map((b: { id: string }) => b.id)).toEqual(simulator!.batches().map((b) => b.id))

    const later = await makeWorkspace(PROMPTS)
    const collected = await step(github!.addRun({ event: 'schedule' }), later, { command: 'collect' })
    expect(collected.exitCode).toBe(1)
    expect(await generated(later)).toEqual(['a.md', 'b.md'])
    expect(collected.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/1 request\(s\) were never sent/) }))
    expect(failure(collected)).toMatch(/run submit again to send the requests that were never sent/)
    expect(names().filter((n) => n.startsWith('claude-batch-results-'))).toHaveLength(1)
  })
})

describe('a manifest that cannot be uploaded', () => {
  it('fails the step saying how to collect, and collect finds the batches through the journal', async () => {
    await start()
    // The journal's upload goes through; the manifest's is refused.
    github!.injectFault({ path: /\/CreateArtifact$/, kind: 'status', status: 400, after: 1, times: Infinity })
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '0' })
    expect(submitted.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(1)
    expect(submitted.outputs['batch-id']).toBe(simulator!.batches()[0]!.id)
    expect(failure(submitted)).toMatch(/Could not save the manifest.*journal artifact claude-batch-journal-[a-z2-9]{8} records them.*batch-id: msgbatch_/)
    expect(names()).toEqual([expect.stringMatching(/^claude-batch-journal-/)])

    github!.clearFaults()
    const later = await makeWorkspace(PROMPTS)
    const collected = await step(github!.addRun({ event: 'schedule' }), later, { command: 'collect' })
    expect(collected.exitCode).toBe(0)
    expect(await generated(later)).toEqual(['a.md', 'b.md', 'c.md'])
  })

  it('with no journal either, collect by batch-id rebuilds the submission from the checkout and proves it', async () => {
    await start()
    const local = await makeWorkspace(PROMPTS)
    // No artifact service at all: the records go to RUNNER_TEMP, which the next job does not have.
    const submitted = await runAction({
      workspace: local,
      inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'wait-minutes': '0' }
    })
    expect(submitted.exitCode).toBe(0)
    const batchId = submitted.outputs['batch-id']!

    const checkout = await makeWorkspace(PROMPTS)
    const collected = await runAction({
      workspace: checkout,
      inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, command: 'collect', 'batch-id': batchId }
    })
    expect(collected.exitCode).toBe(0)
    expect(collected.stdout).toMatch(/rebuilt its submission [a-z2-9]{8} from the checkout/)
    expect(await generated(checkout)).toEqual(['a.md', 'b.md', 'c.md'])

    // A checkout at another commit (a prompt changed) cannot prove the batch: nothing is written.
    const other = await makeWorkspace({ ...PROMPTS, 'prompts/d.md': 'Delta.\n' })
    const refused = await runAction({
      workspace: other,
      inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, command: 'collect', 'batch-id': batchId }
    })
    expect(await generated(other)).toEqual([])
    expect(refused.exitCode).toBe(1)
    expect(refused.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/not the ones it was sent with/) }))
    expect(failure(refused)).toMatch(/from a checkout of the commit it was submitted from/)
  })
})

describe('two collects at once', () => {
  it('keep one results artifact for a submission: the slower one sees the other finished and leaves it', async () => {
    await start()
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '0' })
    expect(submitted.exitCode).toBe(0)
    // Whichever collect reads the results second is held up long enough for the first to finish.
    simulator!.injectFault({ method: 'GET', path: /\/results$/, kind: 'delay', ms: 4_000, after: 1 })
    const [a, b] = await Promise.all([
      step(github!.addRun({ event: 'schedule' }), await makeWorkspace(PROMPTS), { command: 'collect' }),
      step(github!.addRun({ event: 'schedule' }), await makeWorkspace(PROMPTS), { command: 'collect' })
    ])
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    expect(names().filter((n) => n.startsWith('claude-batch-results-'))).toHaveLength(1)
    expect(`${a.stdout}${b.stdout}`).toMatch(/Collected by another run meanwhile/)
  })
})
