/**
 * The reusable workflow as its callers see it: .github/workflows/collect.yml read as YAML, its job
 * driven as a runner would (inputs and secrets resolved for a caller, the action step's `with:`
 * evaluated, dist/index.js run against the Batch API simulator and the GitHub fake), and its outputs
 * computed from the step's through the job's outputs, as the YAML maps them.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { GitHubFake } from '../support/github-fake.js'
import { makeWorkspace, ROOT, runAction } from '../support/run-action.js'
import { actionStep, evaluate, inputsContext, interpolate, readWorkflow, runReusableJob, secretsContext, type ReusableWorkflow } from '../support/reusable-workflow.js'

const WORKFLOW = '.github/workflows/collect.yml'
// The job's own token (github.token) and a GitHub App installation token given as the secret.
const JOB_TOKEN = 'ghs_job-token-of-the-collect-run'
const APP_TOKEN = 'ghs_app-installation-token'
const PROMPTS = { 'prompts/teapot.md': 'Describe a teapot.\n', 'prompts/kettle.md': 'Describe a kettle.\n' }

let simulator: BatchSimulator | undefined
let github: GitHubFake
let fake: GitHubFake | undefined
let workflow: ReusableWorkflow

beforeEach(async () => {
  workflow = await readWorkflow(WORKFLOW)
})
afterEach(async () => {
  await simulator?.close()
  await fake?.close()
  simulator = undefined
  fake = undefined
})

describe('the reusable workflow, run for a caller', () => {
  it('hands back every output, and the App token given as a secret is the one GitHub sees', async () => {
    const sim = (simulator = await BatchSimulator.start({ processingMs: 0 }))
    // Only the App token is accepted: a call made with github.token would fail.
    github = fake = await GitHubFake.start({ token: APP_TOKEN })
    const submitted = await runAction({
      workspace: await makeWorkspace(PROMPTS),
      inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': sim.url, 'github-token': APP_TOKEN },
      env: github.envFor(github.addRun())
    })
    expect(submitted.exitCode).toBe(0)
    const batchId = submitted.outputs['batch-id']!
    const before = github.calls.length

    const { step, outputs } = await runReusableJob(
      workflow,
      'collect',
      {
        with: { 'open-pr': true, 'pr-labels': 'generated', 'pr-title': 'Weekly generated content', 'batch-id': batchId, 'anthropic-base-url': sim.url },
        secrets: { 'anthropic-api-key': DEFAULT_API_KEY, 'github-token': APP_TOKEN },
        githubToken: JOB_TOKEN
      },
      { workspace: await makeWorkspace(PROMPTS), env: github.envFor(github.addRun({ event: 'schedule' })) }
    )
    expect(step.exitCode).toBe(0)

    const results = github.artifacts().filter((a) => a.name.startsWith('claude-batch-results-'))
    const [pull] = github.pulls()
    expect(results).toHaveLength(1)
    expect(outputs).toEqual({
      status: 'ended',
      'batch-ids': JSON.stringify([batchId]),
      succeeded: '2',
      errored: '0',
      canceled: '0',
      expired: '0',
      'cost-usd': expect.stringMatching(/^0\.\d{4}$/),
      'output-files': JSON.stringify(['claude-batch.lock.json', 'generated/kettle.md', 'generated/teapot.md']),
      'pull-request-url': pull!.html_url,
      'results-artifact-ids': JSON.stringify([results[0]!.id])
    })
    expect(Number(outputs['cost-usd'])).toBeGreaterThan(0)
    expect(pull).toMatchObject({ title: 'Weekly generated content', labels: ['generated'] })

    // Every REST call of the collect presented the App token; none the job's own.
    const rest = github.calls.slice(before).filter((c) => c.path.startsWith('/repos/'))
    expect(rest.length).toBeGreaterThan(5)
    expect(new Set(rest.map((c) => c.token))).toEqual(new Set([APP_TOKEN]))
    // Masked by the action, and written nowhere else in the log.
    expect(step.stdout.split('\n').filter((l) => l.includes(APP_TOKEN))).toEqual([`::add-mask::${APP_TOKEN}`])
  }, 60_000)
})

describe('what the workflow declares', () => {
  const caller = { secrets: { 'anthropic-api-key': 'sk-ant-test' }, githubToken: JOB_TOKEN }
  const withOf = (c: Parameters<typeof inputsContext>[1]) => {
    const context = { inputs: inputsContext(workflow, c), secrets: secretsContext(workflow, c), github: { token: c.githubToken } }
    return Object.fromEntries(Object.entries(actionStep(workflow, 'collect').with ?? {}).map(([k, v]) => [k, interpolate(String(v), context)]))
  }

  it('falls back to github.token when the caller gives no github-token secret', () => {
    expect(withOf(caller)['github-token']).toBe(JOB_TOKEN)
    expect(withOf({ ...caller, secrets: { ...caller.secrets, 'github-token': APP_TOKEN } })['github-token']).toBe(APP_TOKEN)
  })

  it('passes every caller input on to an action input of the same name', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> }
    const step = actionStep(workflow, 'collect')
    for (const name of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(name)
    for (const name of ['pr-branch', 'pr-title', 'batch-id', 'anthropic-base-url']) expect(String(step.with?.[name])).toBe(`\${{ inputs.${name} }}`)
    // Each job output reads an output the action has, and each workflow output a job output.
    for (const value of Object.values(workflow.jobs.collect!.outputs ?? {})) expect(Object.keys(action.outputs)).toContain(/steps\.collect\.outputs\.([\w-]+)/.exec(value)![1])
    for (const { value } of Object.values(workflow.on.workflow_call.outputs))
      expect(Object.keys(workflow.jobs.collect!.outputs ?? {})).toContain(/jobs\.collect\.outputs\.([\w-]+)/.exec(value)![1])
  })

  it('takes the runner as one label or a JSON array of labels', () => {
    const runsOn = (value?: string) =>
      interpolate(workflow.jobs.collect!['runs-on'], { inputs: inputsContext(workflow, { ...caller, with: value === undefined ? {} : { 'runs-on': value } }) })
    expect(runsOn()).toBe('ubuntu-latest')
    expect(runsOn('self-hosted')).toBe('self-hosted')
    expect(runsOn('["self-hosted", "linux"]')).toEqual(['self-hosted', 'linux'])
  })

  it('asks for no permissions of its own, so a caller without open-pr grants no write', () => {
    // GitHub checks a nested job's declared permissions against the caller's grant before the run,
    // skipped jobs included: any write declared here would be demanded of every caller.
    expect(workflow.permissions).toBeUndefined()
    for (const job of Object.values(workflow.jobs)) expect(job.permissions).toBeUndefined()
  })

  it('refuses, as GitHub does, an input or a secret the workflow does not declare', () => {
    expect(() => inputsContext(workflow, { ...caller, with: { 'pr-tittle': 'x' } })).toThrow(/pr-tittle is not defined/)
    expect(() => secretsContext(workflow, { ...caller, secrets: { ...caller.secrets, token: 'x' } })).toThrow(/token is not defined/)
    expect(() => secretsContext(workflow, { githubToken: JOB_TOKEN })).toThrow(/anthropic-api-key is required/)
    expect(() => evaluate('inputs.no-such-input', { inputs: inputsContext(workflow, caller) })).toThrow(/not defined/)
  })
})
