/**
 * The bundled action waiting for its batch while the API misbehaves (issue 6, items 1, 11 and 12):
 * transient faults on status and results calls are survived within wait-minutes, a call that never
 * answers cannot hold the step past wait-minutes plus a short grace, and a batch that had already
 * ended when the wait began is collected like any other.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY, type Fault, type SimulatorOptions } from '../support/simulator.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

// A status read is GET /v1/messages/batches/<id>; its results, GET …/<id>/results.
const STATUS = /^\/v1\/messages\/batches\/msgbatch_[^/?]+$/
const RESULTS = /^\/v1\/messages\/batches\/msgbatch_[^/?]+\/results$/

async function submit(options: { sim?: SimulatorOptions; faults: Fault[]; waitMinutes: string }): Promise<{ result: ActionRun; seconds: number; workspace: string }> {
  simulator = await BatchSimulator.start(options.sim ?? {})
  for (const fault of options.faults) simulator.injectFault(fault)
  const workspace = await makeWorkspace({ 'prompts/a.md': 'Say hello.\n' })
  const started = Date.now()
  const result = await runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2', 'wait-minutes': options.waitMinutes },
    timeoutMs: 60_000
  })
  return { result, seconds: (Date.now() - started) / 1000, workspace }
}

const expectCollected = async (result: ActionRun, workspace: string) => {
  expect(result.exitCode).toBe(0)
  expect(result.outputs).toMatchObject({ status: 'ended', succeeded: '1' })
  expect(JSON.parse(result.outputs['output-files']!)).toEqual(['claude-batch.lock.json', 'generated/a.md'])
  expect(await readFile(path.join(workspace, 'generated/a.md'), 'utf8')).not.toBe('')
  expect(simulator!.batches()).toHaveLength(1)
}

describe('waiting under faults', () => {
  it.each<[string, Fault[]]>([
    ['status 500 four times', [{ method: 'GET', path: STATUS, kind: 'status', status: 500, times: 4 }]],
    ['status 529 overloaded', [{ method: 'GET', path: STATUS, kind: 'status', status: 529, errorType: 'overloaded_error', times: 2 }]],
    ['status answers lost (connection dropped)', [{ method: 'GET', path: STATUS, kind: 'lose-answer', times: 2 }]],
    ['results 500 three times', [{ method: 'GET', path: RESULTS, kind: 'status', status: 500, times: 3 }]],
    ['results answer lost', [{ method: 'GET', path: RESULTS, kind: 'lose-answer' }]]
  ])('survives %s and writes the result', async (_, faults) => {
    const { result, workspace } = await submit({ faults, waitMinutes: '1' })
    await expectCollected(result, workspace)
  })

  it('collects a batch that had already ended when the wait began (lost create answer)', async () => {
    // With no processing time the batch found after the lost create has already ended.
    const { result, workspace } = await submit({ faults: [{ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer' }], waitMinutes: '1' })
    await expectCollected(result, workspace)
  })

  it('ends within wait-minutes plus a short grace when status calls never answer, leaving the batch running', async () => {
    // wait-minutes 0.1 is 6 s; every status answer is held for a minute.
    const { result, seconds } = await submit({ faults: [{ method: 'GET', path: STATUS, kind: 'delay', ms: 60_000, times: 100 }], waitMinutes: '0.1' })
    expect(seconds).toBeLessThan(6 + 5 + 8) // the wait, the grace, and the action's own start and preflight
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('in_progress')
    expect(JSON.parse(result.outputs['batch-ids']!)).toEqual([simulator!.batches()[0]!.id])
    expect(result.stdout).toMatch(/did not answer within/)
  })

  it('ends in time with the batch running when the status keeps failing', async () => {
    const { result, seconds } = await submit({ faults: [{ method: 'GET', path: STATUS, kind: 'status', status: 503, times: 100_000 }], waitMinutes: '0.1' })
    expect(seconds).toBeLessThan(6 + 5 + 8)
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('in_progress')
    expect(result.stdout).toMatch(/Stopped waiting: Reading the status of msgbatch_\w+ did not succeed in time.*HTTP 503/)
  })
})
