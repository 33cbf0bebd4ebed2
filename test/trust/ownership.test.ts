/**
 * Whose batch is it? A create whose answer is lost leaves only candidates, found in the batch list by
 * time and size; these tests put another submission's batch of the same size exactly where a lost
 * create's would be, with the real SDK against the simulator, and check that nothing of it is written.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createClient } from '../../src/anthropic/client.js'
import { createBatch } from '../../src/anthropic/create.js'
import { gather } from '../../src/commands/gather.js'
import { newTag } from '../../src/plan/custom-ids.js'
import { buildPlan, type Plan } from '../../src/plan/plan.js'
import { batchBody } from '../../src/plan/spool.js'
import { ResultCollector } from '../../src/results/collect.js'
import { readSources } from '../../src/sources/index.js'
import { batchRef, type BatchRef } from '../../src/state/manifest.js'
import { plainRequest } from '../../src/plan/table.js'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'

// @actions/glob logs its options with core.debug, and the wait logs progress; keep test output readable.
const write0 = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: unknown, ...rest: never[]) =>
  typeof chunk === 'string' && /^::|waited/.test(chunk) ? true : write0(chunk as string, ...rest)) as typeof process.stdout.write

let sim: BatchSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function workspaceWith(files: Record<string, string>): Promise<string> {
  const ws = await mkdtemp(path.join(tmpdir(), 'owner-'))
  const { mkdir, writeFile } = await import('node:fs/promises')
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ws, name)), { recursive: true })
    await writeFile(path.join(ws, name), text)
  }
  return ws
}

async function planOf(ws: string): Promise<Plan> {
  const problems: unknown[] = []
  const ctx = { workspace: ws, outputDir: 'generated', defaults: { model: 'claude-haiku-4-5', maxTokens: 50 }, problem: (p: unknown) => problems.push(p), warning: () => {} }
  const plan = await buildPlan(readSources({ prompts: ['prompts/**/*'], promptsIsDefault: false }, ctx), {
    workspace: ws,
    spoolPath: path.join(await mkdtemp(path.join(tmpdir(), 'spool-')), 'spool'),
    tag: newTag(),
    problem: (p) => problems.push(p)
  })
  expect(problems).toEqual([])
  return plan
}

const client = () => createClient({ apiKey: DEFAULT_API_KEY, baseURL: sim!.url })
const create = (plan: Plan, sleep?: (ms: number) => Promise<void>) =>
  createBatch(client(), {
    body: () => batchBody(plan.spoolPath, plan.requests),
    requestCount: plan.requests.length,
    known: new Set(),
    log: () => {},
    sleep: sleep ?? (async () => {})
  })

async function collectAll(ws: string, plan: Plan, refs: BatchRef[]) {
  const collector = await ResultCollector.create({ plan, workspace: ws, resultsPath: path.join(ws, '..', `${path.basename(ws)}.results.jsonl`), prices: {} })
  try {
    return { gathered: await gather(client(), plan, refs, collector, { deadline: Date.now() + 20_000, maxIntervalMs: 50 }), collector }
  } finally {
    await collector.close()
  }
}

const listing = async (dir: string) => readdir(dir).catch(() => [] as string[])

describe('a batch found after a lost create answer', () => {
  it('is not taken for this submission when it is another of the same size: nothing of it is written', async () => {
    sim = await BatchSimulator.start()
    const mine = await workspaceWith({ 'prompts/a.md': 'Mine.\n' })
    const theirs = await workspaceWith({ 'prompts/b.md': 'Theirs.\n' })
    const [planA, planB] = [await planOf(mine), await planOf(theirs)]

    // A's create fails before anything is made; in the moment before A looks at the list, B's
    // submission (same key, same size) creates its batch.
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'status', status: 500 })
    let theirsMade = false
    const created = await create(planA, async () => {
      if (!theirsMade) {
        theirsMade = true
        expect((await create(planB)).verified).toBe(true)
      }
    })
    expect(created.verified).toBe(false)
    const candidates = created.verified ? [] : created.candidates
    expect(candidates).toHaveLength(1)

    const { gathered, collector } = await collectAll(
      mine,
      planA,
      candidates.map((b) => batchRef(b, 0, false))
    )
    expect(gathered.notOurs.map((n) => n.id)).toEqual([candidates[0]!.id])
    expect(gathered.unsent).toEqual([0])
    expect(collector.written.size).toBe(0)
    expect(await listing(path.join(mine, 'generated'))).toEqual([])
    expect(sim.batches()).toHaveLength(1)
  })

  it("is proved by its result ids when it is this submission's, and told apart from another made at the same moment", async () => {
    sim = await BatchSimulator.start()
    const mine = await workspaceWith({ 'prompts/a.md': 'Mine.\n' })
    const theirs = await workspaceWith({ 'prompts/b.md': 'Theirs.\n' })
    const [planA, planB] = [await planOf(mine), await planOf(theirs)]

    // A's create is made but its answer lost; B's batch of the same size appears at the same moment.
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer', status: 500 })
    let theirsMade = false
    const created = await create(planA, async () => {
      if (!theirsMade) {
        theirsMade = true
        await create(planB)
      }
    })
    expect(created.verified).toBe(false)
    const candidates = created.verified ? [] : created.candidates
    expect(candidates).toHaveLength(2)
    expect(sim.batches()).toHaveLength(2)

    const { gathered, collector } = await collectAll(
      mine,
      planA,
      candidates.map((b) => batchRef(b, 0, false))
    )
    expect(gathered.settled).toBe(true)
    expect(gathered.notOurs).toHaveLength(1)
    expect([...collector.written]).toEqual(['generated/a.md'])
    expect(await readFile(path.join(mine, 'generated/a.md'), 'utf8')).toMatch(/Mine/)
    expect(await readFile(path.join(mine, 'generated/a.md'), 'utf8')).not.toMatch(/Theirs/)
  })

  it("writes nothing when a batch carries this submission's tag but not exactly the ids it sent", async () => {
    sim = await BatchSimulator.start()
    const ws = await workspaceWith({ 'prompts/a.md': 'One.\n', 'prompts/b.md': 'Two.\n' })
    const plan = await planOf(ws)
    // The same tag, but one id dropped and another invented: results that cannot be this submission's.
    const forged = { ...plan, requests: plan.requests.map((r, i) => (i === 1 ? { ...plainRequest(r), customId: `${plan.tag}_forged` } : r)) }
    const made = await create(forged)
    const ref = batchRef(made.verified ? made.batch : made.candidates[0]!, 0, true)
    const { gathered, collector } = await collectAll(ws, plan, [ref])
    expect(gathered.failed[0]?.message).toMatch(/do not match what this submission sent .*never sent.*nothing was written/)
    expect(collector.written.size).toBe(0)
    expect(await listing(path.join(ws, 'generated'))).toEqual([])
  })
})
