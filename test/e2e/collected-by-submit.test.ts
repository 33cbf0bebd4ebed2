/**
 * A submit that waits and writes every result collects its submission itself: it keeps the results
 * artifact collect would have kept, so a scheduled collect neither writes the submission again nor
 * opens a pull request for it. Anything left undone (a batch still running, an upload that fails)
 * stays for collect, as before. The bundled action, as a runner runs it, against the simulator and
 * the GitHub fake.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
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

async function start(processingMs = 0): Promise<void> {
  simulator = await BatchSimulator.start({ processingMs })
  github = await GitHubFake.start()
}

const PROMPTS = {
  'prompts/teapot.md': 'Describe a teapot.\n',
  'prompts/kettle.md': 'Describe a kettle.\n'
}

async function step(run: FakeRun, workspace: string, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator!.url, 'github-token': FAKE_TOKEN, 'poll-interval-seconds': '0.05', ...inputs },
    env: github!.envFor(run)
  })
}

const names = () => github!.artifacts().map((a) => a.name)
const results = () => github!.artifacts().filter((a) => a.name.startsWith('claude-batch-results-'))
const collect = (workspace: string) => step(github!.addRun({ event: 'schedule' }), workspace, { command: 'collect', 'open-pr': 'true' })

describe('submit that waits', () => {
  it('keeps the results artifact, so a scheduled collect finds nothing to collect and opens no pull request', async () => {
    await start()
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '1' })
    expect(submitted.exitCode).toBe(0)
    expect(submitted.outputs.status).toBe('ended')
    const tag = names()
      .find((n) => n.startsWith('claude-batch-manifest-'))!
      .split('-')[3]
    const [kept] = results()
    expect(kept?.name).toBe(`claude-batch-results-${tag}`)
    expect(submitted.outputs['results-artifact-id']).toBe(String(kept!.id))
    expect(submitted.outputs['results-artifact-ids']).toBe(JSON.stringify([kept!.id]))

    // The same layout as collect's: results, summary, and every output at its workspace path.
    const files = await kept!.files()
    expect(Object.keys(files).sort()).toEqual(['files/claude-batch.lock.json', 'files/generated/kettle.md', 'files/generated/teapot.md', 'results.jsonl', 'summary.md'])
    expect(String(files['files/generated/teapot.md'])).toBe(await readFile(`${submitted.workspace}/generated/teapot.md`, 'utf8'))
    expect(String(files['summary.md'])).toContain('| 2 | 0 | 0 | 0 |')
    expect(String(files['summary.md'])).toContain('Collected by the run that submitted it')
    // The step's results file is still where its output says, for a later upload-artifact step.
    expect((await readFile(submitted.outputs['results-file']!, 'utf8')).trim().split('\n')).toHaveLength(2)
    expect(submitted.summary).toContain(`claude-batch-results-${tag}`)

    const later = await collect(await makeWorkspace(PROMPTS))
    expect(later.exitCode).toBe(0)
    expect(later.stdout).toMatch(/0 pending submission\(s\) found/)
    expect(github!.pulls()).toHaveLength(0)
    expect(results()).toHaveLength(1)
  })

  it('keeps one results artifact for each retry-failed round that ended', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/ok.md': 'Fine.\n', 'prompts/busy.md': 'Go. SIMULATE_ERROR:overloaded_error\n' })
    const submitted = await step(github!.addRun(), workspace, { 'wait-minutes': '1', 'retry-failed': '1', 'fail-on-error': 'false' })
    expect(submitted.exitCode).toBe(0)
    expect(JSON.parse(submitted.outputs['batch-ids']!)).toHaveLength(2)
    const ids = JSON.parse(submitted.outputs['results-artifact-ids']!) as number[]
    expect(ids).toEqual(results().map((a) => a.id))
    expect(ids).toHaveLength(2)
    // The retry's artifact holds the retry's own result only.
    expect(
      String((await results()[1]!.files())['results.jsonl'])
        .trim()
        .split('\n')
    ).toHaveLength(1)

    const later = await collect(await makeWorkspace())
    expect(later.stdout).toMatch(/0 pending submission\(s\) found/)
  })

  it('leaves a submission still running to collect, which writes it and opens the pull request', async () => {
    await start(60_000)
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '0.01' })
    expect(submitted.exitCode).toBe(0)
    expect(submitted.outputs.status).toBe('in_progress')
    expect(submitted.outputs['results-artifact-id']).toBeUndefined()
    expect(results()).toHaveLength(0)

    simulator!.setProcessingMs(0)
    const workspace = await makeWorkspace(PROMPTS)
    const later = await collect(workspace)
    expect(later.exitCode).toBe(0)
    expect(later.outputs).toMatchObject({ status: 'ended', succeeded: '2' })
    expect(github!.pulls()).toHaveLength(1)
    expect(results()).toHaveLength(1)
  })

  it('when the results artifact cannot be uploaded, warns, passes, and leaves the submission to collect', async () => {
    await start()
    // The journal and the manifest are uploaded; the results artifact is refused.
    github!.injectFault({ path: '/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact', after: 2, kind: 'status', status: 403, errorType: 'permission_denied' })
    const submitted = await step(github!.addRun(), await makeWorkspace(PROMPTS), { 'wait-minutes': '1' })
    expect(submitted.exitCode).toBe(0)
    expect(submitted.outputs).toMatchObject({ status: 'ended', succeeded: '2' })
    expect(submitted.annotations).toContainEqual(
      expect.objectContaining({ level: 'warning', message: expect.stringMatching(/results artifact .* could not be uploaded.*collect will collect this submission again/) })
    )
    expect(results()).toHaveLength(0)

    const later = await collect(await makeWorkspace(PROMPTS))
    expect(later.outputs).toMatchObject({ status: 'ended', succeeded: '2' })
    expect(results()).toHaveLength(1)
  })
})

describe('submit that waits, without the artifact service', () => {
  it('marks its local records collected, so a local collect finds nothing', async () => {
    simulator = await BatchSimulator.start({ processingMs: 0 })
    const runnerTemp = await makeWorkspace()
    const inputs = { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.05' }
    const submitted = await runAction({ workspace: await makeWorkspace(PROMPTS), runnerTemp, inputs: { ...inputs, 'wait-minutes': '1' } })
    expect(submitted.exitCode).toBe(0)
    expect(submitted.outputs.status).toBe('ended')
    expect(submitted.outputs['results-artifact-id']).toBeUndefined()
    const again = await runAction({ workspace: await makeWorkspace(PROMPTS), runnerTemp, inputs: { ...inputs, command: 'collect' } })
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toMatch(/0 pending submission\(s\) found/)
  })
})
