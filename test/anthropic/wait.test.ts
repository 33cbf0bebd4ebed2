import { describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../support/run-action.js'
import type { MessageBatch } from '../../src/anthropic/client.js'
import { pollIntervalMs, waitForBatches } from '../../src/anthropic/wait.js'
import { apiError, BATCH, ENDED, fakeClock, stubApi, type Step } from './stub-api.js'

const RUNNING = BATCH as unknown as MessageBatch
const DONE = ENDED as unknown as MessageBatch

function collecting() {
  const ended: string[] = []
  const lines: string[] = []
  return { ended, lines, onEnded: async (b: MessageBatch) => void ended.push(b.id), log: (l: string) => void lines.push(l) }
}

describe('waitForBatches', () => {
  it('hands over a batch that had already ended when the wait began', async () => {
    const api = stubApi([])
    const c = collecting()
    const final = await waitForBatches(api.client, [DONE], { deadline: Date.now() + 60_000, maxIntervalMs: 1000, ...c })
    expect(c.ended).toEqual([DONE.id])
    expect(final[0]!.processing_status).toBe('ended')
    expect(api.calls).toHaveLength(0)
  })

  it('hands over a batch that ends during the wait exactly once', async () => {
    const api = stubApi([
      { status: 200, json: BATCH },
      { status: 200, json: BATCH }
    ])
    const clock = fakeClock()
    const c = collecting()
    await waitForBatches(api.client, [RUNNING], { deadline: clock.now() + 60_000, maxIntervalMs: 30_000, ...c, now: clock.now, sleep: clock.sleep })
    expect(c.ended).toEqual([BATCH.id])
    expect(api.calls).toHaveLength(3)
  })

  it.each<[string, Step[]]>([
    ['500 four times', Array.from({ length: 4 }, () => apiError(500))],
    ['an HTML page with status 200', [{ status: 200, text: '<html>maintenance</html>', headers: { 'content-type': 'application/json' } }]],
    ['a dropped connection', [{ drop: true }]],
    ['529 overloaded', [apiError(529, 'overloaded_error')]]
  ])('survives %s and collects the batch', async (_, script) => {
    const api = stubApi(script)
    const clock = fakeClock()
    const c = collecting()
    const final = await waitForBatches(api.client, [RUNNING], { deadline: clock.now() + 60_000, maxIntervalMs: 30_000, ...c, now: clock.now, sleep: clock.sleep })
    expect(final[0]!.processing_status).toBe('ended')
    expect(c.ended).toEqual([BATCH.id])
  })

  it('ends within its deadline plus grace when a status call never answers, leaving the batch running', async () => {
    const api = stubApi([], { hang: true })
    const c = collecting()
    const started = Date.now()
    const final = await waitForBatches(api.client, [RUNNING], { deadline: started + 300, graceMs: 200, maxIntervalMs: 1000, ...c })
    const took = Date.now() - started
    expect(took).toBeLessThan(300 + 200 + 300)
    expect(final[0]!.processing_status).toBe('in_progress')
    expect(c.ended).toEqual([])
    expect(c.lines.join('\n')).toMatch(/Stopped waiting: Reading the status of msgbatch_stub did not succeed in time.*did not answer within.*keep running/)
    expect(api.aborted).toBe(api.calls.length)
  })

  it('returns batches still running at the deadline as running, not as an error', async () => {
    const api = stubApi([], { status: 200, json: BATCH })
    const clock = fakeClock()
    const c = collecting()
    const final = await waitForBatches(api.client, [RUNNING], { deadline: clock.now() + 10 * 60_000, maxIntervalMs: 30_000, ...c, now: clock.now, sleep: clock.sleep })
    expect(final[0]!.processing_status).toBe('in_progress')
    expect(clock.now()).toBeLessThanOrEqual(Date.now() + 10 * 60_000 + 1000)
    expect(c.ended).toEqual([])
  })

  it('still fails on an error retrying cannot fix (a rejected key)', async () => {
    const api = stubApi([apiError(401, 'authentication_error')])
    const clock = fakeClock()
    const c = collecting()
    await expect(waitForBatches(api.client, [RUNNING], { deadline: clock.now() + 60_000, maxIntervalMs: 30_000, ...c, now: clock.now, sleep: clock.sleep })).rejects.toHaveProperty(
      'status',
      401
    )
  })
})

describe('a 6-hour wait with the default poll-interval-seconds', () => {
  it('makes fewer than 300 status calls, and polls as soon as before in the first minute', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> }
    const capMs = Number(action.inputs['poll-interval-seconds']!.default) * 1000
    const api = stubApi([], { status: 200, json: BATCH })
    const clock = fakeClock()
    const c = collecting()
    const final = await waitForBatches(api.client, [RUNNING], { deadline: clock.now() + 6 * 3_600_000, maxIntervalMs: capMs, ...c, now: clock.now, sleep: clock.sleep })
    expect(final[0]!.processing_status).toBe('in_progress')
    expect(api.calls.length).toBeLessThan(300)
    // A small batch's results are not held back: the same quick start as with any cap.
    expect(clock.slept.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16000, 30000])
  })
})

describe('pollIntervalMs', () => {
  const polls = (hours: number, capMs: number) => {
    let t = 0
    let n = 0
    while (t < hours * 3_600_000) t += pollIntervalMs(n++, t, capMs)
    return n
  }

  it('starts quick: 1 s, doubling to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((round) => pollIntervalMs(round, 0, 600_000))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
  })

  it('makes fewer than 300 status calls in 6 hours when the cap allows', () => {
    expect(polls(6, 600_000)).toBeLessThan(300)
  })

  it('never waits longer than the cap (poll-interval-seconds)', () => {
    expect(pollIntervalMs(10, 5 * 3_600_000, 200)).toBe(200)
    expect(pollIntervalMs(0, 0, 200)).toBe(200)
  })
})
