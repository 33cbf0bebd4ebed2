/**
 * Submit now, collect later: the bundled action run as separate processes, each as a step of its
 * own workflow run, against the Batch API simulator and the fake GitHub (REST + artifact service).
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { FAKE_TOKEN, GitHubFake, type FakeRun } from '../support/github-fake.js'
import { DIST, makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

const DAY = 24 * 3600_000
let simulator: BatchSimulator | undefined
let github: GitHubFake | undefined
// The simulator's clock runs this far from the real one, to age batches.
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

const PROMPTS = {
  'prompts/products/teapot.md': '---\nmax_tokens: 200\n---\nDescribe a teapot.\n',
  'prompts/products/kettle.md': 'Describe a kettle.\n',
  'data/tickets.csv': 'id,subject\nA1,Broken lid\nA2,Late parcel\n',
  'templates/classify.md': '---\nmax_tokens: 20\n---\nClassify: {{subject}}\n'
}

/** One step of a workflow run: the action as a process with that run's environment. */
async function step(run: FakeRun, workspace: string, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: {
      'anthropic-api-key': DEFAULT_API_KEY,
      'anthropic-base-url': simulator!.url,
      'github-token': FAKE_TOKEN,
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    env: github!.envFor(run)
  })
}

const submitInputs = { data: 'data/tickets.csv', template: 'templates/classify.md' }
const names = () => github!.artifacts().map((a) => a.name)
// Records are named by the submission's tag; the manifest's name also carries its first batch.
const tagOf = (batchId: string) =>
  names()
    .find((n) => n.startsWith('claude-batch-manifest-') && n.endsWith(`-${batchId}`))
    ?.split('-')[3]
const resultsOf = (batchId: string) => `claude-batch-results-${tagOf(batchId)}`
const manifestOf = (batchId: string) => `claude-batch-manifest-${tagOf(batchId)}-${batchId}`
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false
  )

describe('submit, then collect from a schedule', () => {
  it('goes the whole way: manifest, in progress, collected with a pull request, then nothing new', async () => {
    await start(60_000)
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), submitInputs)
    expect(submitted.exitCode).toBe(0)
    const batchId = submitted.outputs['batch-id']!
    expect(names()).toEqual([`claude-batch-journal-${tagOf(batchId)}`, manifestOf(batchId)])
    expect(submitted.outputs['manifest-artifact-id']).toBe(String(github!.artifacts()[1]!.id))
    const manifest = JSON.parse(String((await github!.artifacts()[1]!.files())['manifest.json']))
    expect(manifest.batches.map((b: { id: string }) => b.id)).toEqual([batchId])
    expect(JSON.stringify(manifest)).not.toContain(DEFAULT_API_KEY)
    expect(JSON.stringify(manifest)).not.toContain('Describe a teapot')

    // The schedule runs while the batch is still processing: nothing is written or kept.
    const early = await makeWorkspace(PROMPTS)
    const first = await step(github!.addRun({ event: 'schedule' }), early, { command: 'collect', 'open-pr': 'true' })
    expect(first.exitCode).toBe(0)
    expect(first.outputs.status).toBe('in_progress')
    expect(first.stdout).toMatch(/in progress\. 0 of 1 batch\(es\) ended/)
    expect(await exists(path.join(early, 'generated'))).toBe(false)
    expect(names()).toHaveLength(2)
    expect(github!.pulls()).toHaveLength(0)

    // The batch ends; the next scheduled run collects it.
    simulator!.setProcessingMs(0)
    const workspace = await makeWorkspace(PROMPTS)
    const second = await step(github!.addRun({ event: 'schedule' }), workspace, { command: 'collect', 'open-pr': 'true', 'pr-labels': 'generated, claude' })
    // Nothing on stderr but Node's deprecation notice for unzip-stream's Buffer(), a dependency of @actions/artifact.
    expect(second.stderr.split('\n').filter((l) => l && !/DEP0005|--trace-deprecation/.test(l))).toEqual([])
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ status: 'ended', succeeded: '4', 'batch-ids': JSON.stringify([batchId]) })
    const files = JSON.parse(second.outputs['output-files']!) as string[]
    expect(files).toEqual(['claude-batch.lock.json', 'generated/products/kettle.md', 'generated/products/teapot.md', 'generated/tickets.csv'])
    expect(await readFile(path.join(workspace, 'generated/products/teapot.md'), 'utf8')).toMatch(/teapot/)

    const results = github!.artifacts().find((a) => a.name === resultsOf(batchId))!
    const kept = await results.files()
    expect(Object.keys(kept).sort()).toEqual([
      'files/claude-batch.lock.json',
      'files/generated/products/kettle.md',
      'files/generated/products/teapot.md',
      'files/generated/tickets.csv',
      'results.jsonl',
      'summary.md'
    ])
    expect(String(kept['results.jsonl']).trim().split('\n')).toHaveLength(4)

    const [pull] = github!.pulls()
    expect(second.outputs['pull-request-url']).toBe(pull!.html_url)
    expect(pull).toMatchObject({ head: `claude-batch/${batchId}`, base: 'main', state: 'open', labels: ['generated', 'claude'] })
    expect(pull!.body).toContain('| 4 | 0 | 0 | 0 |')
    expect(github!.fileAt(`claude-batch/${batchId}`, 'generated/products/teapot.md')).toBe(await readFile(path.join(workspace, 'generated/products/teapot.md'), 'utf8'))
    expect(github!.fileAt(`claude-batch/${batchId}`, 'README.md')).toBeDefined()
    const head = github!.commit(github!.branch(`claude-batch/${batchId}`)!.sha)!
    expect(head.message).toContain(batchId)

    // Collected means collected: the next run finds nothing and opens no second pull request.
    const third = await step(github!.addRun({ event: 'schedule' }), await makeWorkspace(PROMPTS), { command: 'collect', 'open-pr': 'true' })
    expect(third.exitCode).toBe(0)
    expect(third.stdout).toMatch(/0 pending submission\(s\) found/)
    expect(github!.pulls()).toHaveLength(1)
    expect(names().filter((n) => n.startsWith('claude-batch-results-'))).toHaveLength(1)
  })

  it('updates the same branch and pull request when a batch is collected again', async () => {
    await start(0)
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), {})
    const batchId = submitted.outputs['batch-id']!
    const first = await step(github!.addRun(), await makeWorkspace(PROMPTS), { command: 'collect', 'open-pr': 'true' })
    expect(first.exitCode).toBe(0)
    // Someone deletes the results artifact to have it collected again, after main moved on.
    const results = github!.artifacts().find((a) => a.name === resultsOf(batchId))!
    await fetch(`${github!.url}/repos/${github!.repository}/actions/artifacts/${results.id}`, { method: 'DELETE', headers: { authorization: `token ${FAKE_TOKEN}` } })
    github!.pushFile('main', 'docs/other.md', 'unrelated\n')
    const again = await step(github!.addRun(), await makeWorkspace(PROMPTS), { command: 'collect', 'open-pr': 'true' })
    expect(again.exitCode).toBe(0)
    expect(github!.pulls()).toHaveLength(1)
    expect(again.outputs['pull-request-url']).toBe(first.outputs['pull-request-url'])
    // The branch was rebuilt on the new main.
    expect(github!.fileAt(`claude-batch/${batchId}`, 'docs/other.md')).toBe('unrelated\n')
  })
})

describe('trust', () => {
  it('ignores a manifest made by a pull request from a fork, and says so', async () => {
    await start(0)
    const fork = github!.addRun({ event: 'pull_request', headRepository: 'mallory/prompts-repo', headBranch: 'evil' })
    const submitted = await step(fork, await makeWorkspace({ 'prompts/a.md': 'Hi.\n' }), {})
    expect(submitted.exitCode).toBe(0)
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hi.\n' })
    const collected = await step(github!.addRun({ event: 'schedule' }), workspace, { command: 'collect', 'open-pr': 'true' })
    expect(collected.exitCode).toBe(0)
    expect(collected.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/fork/) }))
    expect(await exists(path.join(workspace, 'generated'))).toBe(false)
    expect(names().some((n) => n.startsWith('claude-batch-results-'))).toBe(false)
    expect(github!.pulls()).toHaveLength(0)
  })
})

describe('a job that died while waiting', () => {
  it('loses nothing: its manifest was saved before the wait, and a later collect finishes the work', async () => {
    await start(60_000)
    const workspace = await makeWorkspace(PROMPTS)
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', GITHUB_WORKSPACE: workspace, ...github!.envFor(github!.addRun()) }
    const inputs = { ...submitInputs, 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'wait-minutes': '10', 'poll-interval-seconds': '0.2' }
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
    const { writeFile } = await import('node:fs/promises')
    env.GITHUB_OUTPUT = path.join(workspace, '.out')
    await writeFile(env.GITHUB_OUTPUT, '')
    // The runner cancels the job (or it hits timeout-minutes) in the middle of the wait.
    const child = spawn(process.execPath, [DIST], { env, cwd: workspace })
    let log = ''
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        log += d.toString()
        if (/waited/.test(log)) resolve()
      })
    })
    child.kill('SIGKILL')
    expect(names()).toHaveLength(2)

    simulator!.setProcessingMs(0)
    const later = await makeWorkspace(PROMPTS)
    const collected = await step(github!.addRun({ event: 'schedule' }), later, { command: 'collect' })
    expect(collected.exitCode).toBe(0)
    expect(collected.outputs).toMatchObject({ status: 'ended', succeeded: '4' })
    expect(await readFile(path.join(later, 'generated/tickets.csv'), 'utf8')).toMatch(/^id,subject,output\n/)
  })
})

describe('status and cancel', () => {
  it('status tables every pending batch with its counts and expiry', async () => {
    await start(60_000)
    const a = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    const b = await step(github!.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n', 'prompts/c.md': 'C.\n' }), {})
    const result = await step(github!.addRun(), await makeWorkspace(), { command: 'status' })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs['batch-ids']!).sort()).toEqual([a.outputs['batch-id'], b.outputs['batch-id']].sort())
    expect(result.summary).toContain('0 of 2 done')
    expect(result.summary).toContain('in_progress')
    expect(result.stdout).toContain(a.outputs['batch-id'])
  })

  it('cancel cancels the batch and collects what it has', async () => {
    await start(60_000)
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), submitInputs)
    const batchId = submitted.outputs['batch-id']!
    const workspace = await makeWorkspace(PROMPTS)
    const result = await step(github!.addRun({ event: 'workflow_dispatch' }), workspace, { command: 'cancel', 'batch-id': batchId, 'fail-on-error': 'false' })
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches()[0]!.processingStatus).toBe('ended')
    expect(result.outputs).toMatchObject({ status: 'ended', canceled: '4' })
    expect(names()).toContain(resultsOf(batchId))
  })

  it('cancel needs a batch-id', async () => {
    await start(0)
    const result = await step(github!.addRun(), await makeWorkspace(), { command: 'cancel' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/batch-id/)
  })
})

describe('results expire', () => {
  it('warns a week before the API deletes results, and says clearly when they are lost', async () => {
    await start(0)
    shift = -25 * DAY
    const soon = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    shift = -30 * DAY
    const gone = await step(github!.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n' }), {})
    shift = 0

    const status = await step(github!.addRun(), await makeWorkspace(), { command: 'status' })
    expect(status.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringContaining(soon.outputs['batch-id']!) }))

    const collected = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }), { command: 'collect' })
    expect(collected.exitCode).toBe(1)
    expect(collected.annotations).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(new RegExp(`results of ${gone.outputs['batch-id']} were deleted .* lost`)) })
    )
    // The one still in time was collected.
    expect(collected.outputs['batch-ids']).toContain(soon.outputs['batch-id'])
  })
})

describe('more ways to collect', () => {
  it('collects only the batch named by batch-id', async () => {
    await start(0)
    const a = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    const b = await step(github!.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n' }), {})
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' })
    const result = await step(github!.addRun(), workspace, { command: 'collect', 'batch-id': a.outputs['batch-id']! })
    expect(result.outputs['batch-ids']).toBe(JSON.stringify([a.outputs['batch-id']]))
    expect(names()).toContain(resultsOf(a.outputs['batch-id']))
    expect(names()).not.toContain(resultsOf(b.outputs['batch-id']))
    expect(await exists(path.join(workspace, 'generated/b.md'))).toBe(false)
  })

  it('cancel with batch-id all cancels every pending batch', async () => {
    await start(60_000)
    await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    await step(github!.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n' }), {})
    const result = await step(github!.addRun(), await makeWorkspace(), { command: 'cancel', 'batch-id': 'all', 'fail-on-error': 'false' })
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches().map((b) => b.processingStatus)).toEqual(['ended', 'ended'])
    expect(JSON.parse(result.outputs['batch-ids']!)).toHaveLength(2)
  })

  it('lists failed requests in the pull request and annotates them on their files', async () => {
    await start(0)
    const files = { 'prompts/ok.md': 'Fine.\n', 'prompts/bad.md': 'Fails. SIMULATE_ERROR:api_error\n' }
    await step(github!.addRun(), await makeWorkspace(files), {})
    const result = await step(github!.addRun(), await makeWorkspace(files), { command: 'collect', 'open-pr': 'true' })
    expect(result.exitCode).toBe(1)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'prompts/bad.md', message: expect.stringMatching(/api_error/) }))
    const [pull] = github!.pulls()
    expect(pull!.body).toMatch(/Requests that did not succeed \(1\)/)
    expect(pull!.body).toMatch(/prompts\/bad\.md:1.*api_error/)
    expect(pull!.body).toMatch(/Collected by \[run \d+\]/)
  })
})

describe('without the artifact service', () => {
  it('keeps the manifest in RUNNER_TEMP with a warning, and collect finds it there', async () => {
    await start(0)
    const runnerTemp = await makeWorkspace()
    const inputs = { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url }
    const submitted = await runAction({ workspace: await makeWorkspace({ 'prompts/a.md': 'A.\n' }), runnerTemp, inputs })
    expect(submitted.exitCode).toBe(0)
    expect(submitted.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/manifest was written to .*claude-batch-state/) }))
    expect(names()).toEqual([])

    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n' })
    const collected = await runAction({ workspace, runnerTemp, inputs: { ...inputs, command: 'collect' } })
    expect(collected.exitCode).toBe(0)
    expect(collected.outputs['batch-ids']).toBe(JSON.stringify([submitted.outputs['batch-id']]))
    expect(await readFile(path.join(workspace, 'generated/a.md'), 'utf8')).toMatch(/A\./)
    const again = await runAction({ workspace, runnerTemp, inputs: { ...inputs, command: 'collect' } })
    expect(again.stdout).toMatch(/0 pending submission\(s\) found/)
  })
})

describe('data files at collection', () => {
  it('does not rewrite a data file that changed since submission, and says why', async () => {
    await start(0)
    await step(github!.addRun(), await makeWorkspace(PROMPTS), submitInputs)
    const changed = { ...PROMPTS, 'data/tickets.csv': 'id,subject\nA0,New first row\nA1,Broken lid\nA2,Late parcel\n' }
    const workspace = await makeWorkspace(changed)
    const result = await step(github!.addRun(), workspace, { command: 'collect' })
    expect(result.exitCode).toBe(0)
    expect(result.annotations).toContainEqual(
      expect.objectContaining({ level: 'warning', file: 'data/tickets.csv', message: expect.stringMatching(/changed since it was submitted/) })
    )
    expect(await exists(path.join(workspace, 'generated/tickets.csv'))).toBe(false)
    expect(await exists(path.join(workspace, 'generated/products/teapot.md'))).toBe(true)
    expect(JSON.parse(result.outputs['output-files']!)).not.toContain('generated/tickets.csv')
  })
})

describe('a pull request that fails', () => {
  it('leaves the submission uncollected, so the next run tries again', async () => {
    await start(0)
    const submitted = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    const failed = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), { command: 'collect', 'open-pr': 'true', 'pr-base': 'no-such-branch' })
    expect(failed.exitCode).toBe(1)
    expect(failed.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/Collecting failed/) }))
    expect(names()).not.toContain(resultsOf(submitted.outputs['batch-id']))

    const retried = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), { command: 'collect', 'open-pr': 'true' })
    expect(retried.exitCode).toBe(0)
    expect(github!.pulls()).toHaveLength(1)
    expect(names()).toContain(resultsOf(submitted.outputs['batch-id']))
  })
})

describe('pr-branch', () => {
  it('puts everything collected in one run on the named branch, in one pull request', async () => {
    await start(0)
    const a = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    const b = await step(github!.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n' }), {})
    const result = await step(github!.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }), {
      command: 'collect',
      'open-pr': 'true',
      'pr-branch': 'content/weekly',
      'pr-title': 'Weekly content'
    })
    expect(result.exitCode).toBe(0)
    const pulls = github!.pulls()
    expect(pulls).toHaveLength(1)
    expect(pulls[0]).toMatchObject({ head: 'content/weekly', title: 'Weekly content' })
    expect(pulls[0]!.body).toContain(a.outputs['batch-id'])
    expect(pulls[0]!.body).toContain(b.outputs['batch-id'])
    expect(github!.fileAt('content/weekly', 'generated/a.md')).toBeDefined()
    expect(github!.fileAt('content/weekly', 'generated/b.md')).toBeDefined()
  })
})
