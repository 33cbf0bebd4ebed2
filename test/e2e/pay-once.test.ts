/**
 * Pay once (issue 7): the lock file makes every run send only what is new, changed, failed before or left
 * over. The bundled action, run as the runner runs it, against the Batch API simulator and the GitHub fake.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile, writeFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { FAKE_TOKEN, GitHubFake } from '../support/github-fake.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
let github: GitHubFake | undefined
afterEach(async () => {
  await simulator?.close()
  await github?.close()
  simulator = undefined
  github = undefined
})

const LOCK = 'claude-batch.lock.json'
const read = (workspace: string, file: string) => readFile(path.join(workspace, file), 'utf8')
const write = (workspace: string, file: string, text: string) => writeFile(path.join(workspace, file), text)
const lockOf = async (workspace: string) => JSON.parse(await read(workspace, LOCK)) as Record<string, { fingerprint: string; batch: string; at: string; row?: number }>
/** What the simulator was sent, batch by batch: the number of requests in each. */
const sentPerBatch = () => simulator!.batches().map((b) => b.requestCount)

async function run(workspace: string, inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> {
  simulator ??= await BatchSimulator.start({ processingMs: 0 })
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.05', 'wait-minutes': '1', ...inputs },
    env
  })
}

const FIVE = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`prompts/${n}.md`, `Describe the letter ${n}.\n`]))

describe('pay once: prompt files', () => {
  it('re-running an unchanged checkout creates no batch; editing one prompt sends exactly that one and leaves the rest untouched', async () => {
    const workspace = await makeWorkspace(FIVE)
    const first = await run(workspace)
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ status: 'ended', 'request-count': '5', 'unchanged-count': '0' })
    expect(JSON.parse(first.outputs['output-files']!)).toContain(LOCK)
    const lock = await lockOf(workspace)
    expect(Object.keys(lock)).toEqual(['generated/a.md', 'generated/b.md', 'generated/c.md', 'generated/d.md', 'generated/e.md'])
    expect(lock['generated/a.md']!.batch).toBe(first.outputs['batch-id'])
    // One entry a line, sorted: a readable diff.
    expect((await read(workspace, LOCK)).split('\n')).toHaveLength(5 + 3)

    const again = await run(workspace)
    expect(again.exitCode).toBe(0)
    expect(again.outputs).toMatchObject({ status: 'up-to-date', 'request-count': '0', 'unchanged-count': '5', 'pending-count': '0', 'deferred-count': '0' })
    expect(sentPerBatch()).toEqual([5])
    expect(again.summary).toMatch(/Up to date/)

    const before = Object.fromEntries(
      await Promise.all(
        ['b', 'c', 'd', 'e'].map(async (n) => [n, { text: await read(workspace, `generated/${n}.md`), mtime: (await stat(path.join(workspace, `generated/${n}.md`))).mtimeMs }])
      )
    )
    await write(workspace, 'prompts/a.md', 'Describe the letter A, in capitals.\n')
    const edited = await run(workspace)
    expect(edited.exitCode).toBe(0)
    expect(edited.outputs).toMatchObject({ status: 'ended', 'request-count': '1', 'unchanged-count': '4' })
    expect(sentPerBatch()).toEqual([5, 1])
    expect(JSON.stringify(simulator!.batches()[1]!.requests[0]!.params)).toContain('in capitals')
    expect(await read(workspace, 'generated/a.md')).toMatch(/in capitals/)
    for (const n of ['b', 'c', 'd', 'e']) {
      expect(await read(workspace, `generated/${n}.md`)).toBe(before[n]!.text)
      expect((await stat(path.join(workspace, `generated/${n}.md`))).mtimeMs).toBe(before[n]!.mtime)
    }
    expect(JSON.parse(edited.outputs['output-files']!).sort()).toEqual([LOCK, 'generated/a.md'])
    const after = await lockOf(workspace)
    expect(after['generated/a.md']!.batch).toBe(edited.outputs['batch-id'])
    expect(after['generated/b.md']).toEqual(lock['generated/b.md'])
  })

  it('sends a failed request again and a succeeded one never', async () => {
    const workspace = await makeWorkspace({ 'prompts/ok.md': 'Fine.\n', 'prompts/flaky.md': 'Go. SIMULATE_ERROR:api_error\n' })
    const inputs = { 'fail-on-error': 'false', 'retry-failed': '0' }
    const first = await run(workspace, inputs)
    expect(first.outputs).toMatchObject({ status: 'ended', succeeded: '1', errored: '1' })
    expect(Object.keys(await lockOf(workspace))).toEqual(['generated/ok.md'])

    const second = await run(workspace, inputs)
    expect(second.outputs).toMatchObject({ 'request-count': '1', 'unchanged-count': '1' })
    expect(JSON.stringify(simulator!.batches()[1]!.requests.map((r) => r.params))).toContain('SIMULATE_ERROR')

    // Once it succeeds it is never sent again.
    await write(workspace, 'prompts/flaky.md', 'Go.\n')
    expect((await run(workspace, inputs)).outputs).toMatchObject({ 'request-count': '1', succeeded: '1' })
    expect((await run(workspace, inputs)).outputs).toMatchObject({ status: 'up-to-date', 'unchanged-count': '2' })
    expect(sentPerBatch()).toEqual([2, 1, 1])
  })

  it('max-requests: 2 over five prompts finishes in runs of 2, 2, 1, then 0', async () => {
    const workspace = await makeWorkspace(FIVE)
    const counts: Array<Record<string, string | undefined>> = []
    for (let i = 0; i < 4; i++) {
      const r = await run(workspace, { 'max-requests': '2' })
      expect(r.exitCode).toBe(0)
      counts.push({ sent: r.outputs['request-count'], deferred: r.outputs['deferred-count'], status: r.outputs.status })
    }
    expect(counts).toEqual([
      { sent: '2', deferred: '3', status: 'ended' },
      { sent: '2', deferred: '1', status: 'ended' },
      { sent: '1', deferred: '0', status: 'ended' },
      { sent: '0', deferred: '0', status: 'up-to-date' }
    ])
    expect(sentPerBatch()).toEqual([2, 2, 1])
    expect(Object.keys(await lockOf(workspace))).toHaveLength(5)
  })

  it('when the API takes no more batches (a 429 that outlasts the retries), keeps what was made and leaves the rest to the next run', async () => {
    const workspace = await makeWorkspace(FIVE)
    simulator ??= await BatchSimulator.start({ processingMs: 0 })
    // Batches of two: the first is made, every later create is refused for its rate.
    simulator.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'status', status: 429, after: 1, times: Infinity })
    const first = await run(workspace, {}, { CLAUDE_BATCH_TEST_MAX_REQUESTS: '2' })
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ status: 'ended', 'request-count': '2', 'deferred-count': '3', succeeded: '2' })
    expect(first.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/3 requests are left for the next run/) }))
    expect(sentPerBatch()).toEqual([2])

    simulator.clearFaults()
    const second = await run(workspace, {}, { CLAUDE_BATCH_TEST_MAX_REQUESTS: '2' })
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ status: 'ended', 'request-count': '3', 'unchanged-count': '2' })
    expect(sentPerBatch()).toEqual([2, 2, 1])
    expect(Object.keys(await lockOf(workspace))).toHaveLength(5)
  })

  it('regenerate sends everything once; an empty lock-file turns pay once off', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' })
    await run(workspace)
    expect((await run(workspace, { regenerate: 'true' })).outputs).toMatchObject({ 'request-count': '2', 'unchanged-count': '0' })
    const off = await makeWorkspace({ 'prompts/a.md': 'A.\n' })
    await run(off, { 'lock-file': '' })
    const second = await run(off, { 'lock-file': '' })
    expect(second.outputs).toMatchObject({ status: 'ended', 'request-count': '1' })
    expect(JSON.parse(second.outputs['output-files']!)).toEqual(['generated/a.md'])
    await expect(stat(path.join(off, LOCK))).rejects.toThrow()
    expect(sentPerBatch()).toEqual([2, 2, 1, 1])
  })

  it('deleting an output sends its request again; a deleted prompt is reported stale', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n', 'prompts/c.md': 'C.\n' })
    await run(workspace)
    await writeFile(path.join(workspace, 'prompts/c.md'), 'C.\n')
    const { rm } = await import('node:fs/promises')
    await rm(path.join(workspace, 'generated/a.md'))
    await rm(path.join(workspace, 'prompts/b.md'))
    const r = await run(workspace, { 'dry-run': 'true' })
    expect(r.outputs).toMatchObject({ status: 'dry-run', 'request-count': '1', 'unchanged-count': '1' })
    expect(r.summary).toMatch(/Stale lock entries \(1\)/)
    expect(r.summary).toContain('generated/b.md')
    expect(r.summary).toMatch(/1 whose output was deleted/)
  })
})

describe('retry-failed', () => {
  it('resubmits transient failures and expired requests in follow-up batches while waiting, never invalid ones', async () => {
    const workspace = await makeWorkspace({
      'prompts/ok.md': 'Fine.\n',
      'prompts/busy.md': 'Go. SIMULATE_ERROR:overloaded_error\n',
      'prompts/late.md': 'Go. SIMULATE_EXPIRE\n',
      'prompts/bad.md': 'Go. SIMULATE_ERROR:invalid_request_error\n'
    })
    const result = await run(workspace, { 'fail-on-error': 'false' })
    expect(result.exitCode).toBe(0)
    // The simulator fails these prompts every time: two follow-up rounds (the default), then it stops.
    expect(sentPerBatch()).toEqual([4, 2, 2])
    for (const batch of simulator!.batches().slice(1)) {
      const prompts = batch.requests.map((r) => JSON.stringify(r.params))
      expect(prompts.some((p) => p.includes('overloaded_error'))).toBe(true)
      expect(prompts.some((p) => p.includes('SIMULATE_EXPIRE'))).toBe(true)
      expect(prompts.some((p) => p.includes('invalid_request_error'))).toBe(false)
    }
    // Every follow-up is a submission of its own (a new tag), and each request counts once, by its last attempt.
    const tags = simulator!.batches().map((b) => b.customIds[0]!.split('_')[0])
    expect(new Set(tags).size).toBe(3)
    expect(result.outputs).toMatchObject({ status: 'ended', 'request-count': '4', succeeded: '1', errored: '2', expired: '1' })
    expect(JSON.parse(result.outputs['batch-ids']!)).toHaveLength(3)
    expect(Object.keys(await lockOf(workspace))).toEqual(['generated/ok.md'])

    // retry-failed: 0 sends them once; the next run sends the three again (no lock entry), not ok.md.
    const next = await run(workspace, { 'fail-on-error': 'false', 'retry-failed': '0' })
    expect(next.outputs).toMatchObject({ 'request-count': '3', 'unchanged-count': '1' })
    expect(sentPerBatch()).toEqual([4, 2, 2, 3])
  })
})

describe('pay once: data rows', () => {
  it('inserting one CSV row and editing another sends exactly two; unchanged rows keep their output, in source order', async () => {
    const workspace = await makeWorkspace({
      'data/tickets.csv': 'id,subject\nA1,Broken lid\nA2,Late delivery\nA3,Wrong colour\n',
      'templates/classify.md': 'Classify: {{subject}}\n'
    })
    const inputs = { data: 'data/tickets.csv', template: 'templates/classify.md', prompts: '' }
    const first = await run(workspace, inputs)
    expect(first.outputs).toMatchObject({ status: 'ended', 'request-count': '3' })
    const rowsOf = async () => parse(await read(workspace, 'generated/tickets.csv')) as string[][]
    const before = await rowsOf()
    expect(before).toHaveLength(4)

    // A row inserted in the middle, one edited; A1 and A3 are unchanged but move.
    await write(workspace, 'data/tickets.csv', 'id,subject\nA1,Broken lid\nA9,Missing manual\nA2,Very late delivery\nA3,Wrong colour\n')
    const second = await run(workspace, inputs)
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ 'request-count': '2', 'unchanged-count': '2' })
    const sent = simulator!.batches()[1]!.requests.map((r) => JSON.stringify(r.params))
    expect(sent).toHaveLength(2)
    expect(sent.some((p) => p.includes('Missing manual'))).toBe(true)
    expect(sent.some((p) => p.includes('Very late delivery'))).toBe(true)

    const after = await rowsOf()
    expect(after.map((l) => l[0])).toEqual(['id', 'A1', 'A9', 'A2', 'A3'])
    // The unchanged rows carry their previous output, byte for byte.
    expect(after[1]).toEqual(before[1])
    expect(after[4]).toEqual(before[3])
    expect(after[2]![2]).toMatch(/Missing manual/)
    expect(after[3]![2]).toMatch(/Very late delivery/)

    const third = await run(workspace, inputs)
    expect(third.outputs).toMatchObject({ status: 'up-to-date', 'unchanged-count': '4' })
    expect(sentPerBatch()).toEqual([3, 2])
  })
})

describe('pay once with GitHub: pending submissions and the pull request', () => {
  async function step(workspace: string, inputs: Record<string, string>, event = 'push'): Promise<ActionRun> {
    github ??= await GitHubFake.start()
    return run(workspace, { 'github-token': FAKE_TOKEN, 'wait-minutes': '0', ...inputs }, github.envFor(github.addRun({ event })))
  }

  it('a second submit before collection sends nothing pending; the pull request carries the lock', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' })
    const first = await step(workspace, {})
    expect(first.outputs).toMatchObject({ status: 'in_progress', 'request-count': '2' })

    await write(workspace, 'prompts/c.md', 'C.\n')
    const second = await step(workspace, {})
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ 'request-count': '1', 'pending-count': '2' })
    expect(sentPerBatch()).toEqual([2, 1])
    const third = await step(workspace, {})
    expect(third.outputs).toMatchObject({ status: 'up-to-date', 'pending-count': '3' })

    const collected = await step(workspace, { command: 'collect', 'open-pr': 'true', 'pr-branch': 'content/generated' }, 'schedule')
    expect(collected.exitCode).toBe(0)
    expect(JSON.parse(collected.outputs['output-files']!)).toContain(LOCK)
    const lock = JSON.parse(github!.fileAt('content/generated', LOCK)!)
    expect(Object.keys(lock)).toEqual(['generated/a.md', 'generated/b.md', 'generated/c.md'])
    expect(github!.fileAt('content/generated', 'generated/c.md')).toMatch(/C\./)

    // Collected and locked: nothing is pending or to send.
    const fourth = await step(workspace, {})
    expect(fourth.outputs).toMatchObject({ status: 'up-to-date', 'unchanged-count': '3', 'pending-count': '0' })
    expect(sentPerBatch()).toEqual([2, 1])
  })

  it('prune deletes the outputs of deleted prompts and their entries, in the checkout and in the pull request', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n', 'notes/keep.md': 'Mine.\n' })
    await step(workspace, {})
    await step(workspace, { command: 'collect' }, 'schedule')
    // The previous pull request was merged: main has the outputs and the lock.
    for (const f of ['generated/a.md', 'generated/b.md', LOCK]) github!.pushFile('main', f, await read(workspace, f), `Add ${f}`)
    // A lock entry someone added for a file that is not generated: prune must not delete it.
    const lock = await lockOf(workspace)
    await write(workspace, LOCK, JSON.stringify({ ...lock, 'notes/keep.md': lock['generated/a.md'] }))

    const { rm } = await import('node:fs/promises')
    await rm(path.join(workspace, 'prompts/b.md'))
    await write(workspace, 'prompts/a.md', 'A, again.\n')
    const pruned = await step(workspace, { prune: 'true' })
    expect(pruned.exitCode).toBe(0)
    expect(pruned.outputs).toMatchObject({ 'request-count': '1' })
    await expect(stat(path.join(workspace, 'generated/b.md'))).rejects.toThrow()
    expect(await read(workspace, 'notes/keep.md')).toBe('Mine.\n')
    expect(Object.keys(await lockOf(workspace))).toEqual(['generated/a.md'])

    // collect works from a checkout of the commit, where the pruned output is still there.
    await write(workspace, 'generated/b.md', 'B output\n')
    const collected = await step(workspace, { command: 'collect', 'open-pr': 'true', 'pr-branch': 'content/generated' }, 'schedule')
    expect(collected.exitCode).toBe(0)
    await expect(stat(path.join(workspace, 'generated/b.md'))).rejects.toThrow()
    expect(github!.fileAt('content/generated', 'generated/b.md')).toBeUndefined()
    expect(github!.fileAt('main', 'generated/b.md')).toBeDefined()
    expect(Object.keys(JSON.parse(github!.fileAt('content/generated', LOCK)!))).toEqual(['generated/a.md'])
    expect(github!.fileAt('content/generated', 'generated/a.md')).toMatch(/again/)
  })

  it('without actions: read, warns once and sends', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n' })
    await step(workspace, {})
    github!.injectFault({ method: 'GET', path: /\/actions\/artifacts/, kind: 'status', status: 403, times: Infinity })
    const second = await step(workspace, {})
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ 'request-count': '1', 'pending-count': '0' })
    const warnings = second.annotations.filter((a) => a.level === 'warning' && /actions: read/.test(a.message))
    expect(warnings).toHaveLength(1)
  })
})
