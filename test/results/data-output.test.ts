/**
 * The data path at a size where the texts are read back in several blocks: results come back in a
 * shuffled order (as the API may send them), and every row of the generated file must carry its own
 * row's text, or nothing where its request failed. The real SDK against the simulator.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { createClient } from '../../src/anthropic/client.js'
import { createBatch } from '../../src/anthropic/create.js'
import { gather } from '../../src/commands/gather.js'
import { newTag } from '../../src/plan/custom-ids.js'
import { buildPlan, type Plan } from '../../src/plan/plan.js'
import { batchBody } from '../../src/plan/spool.js'
import { ResultCollector } from '../../src/results/collect.js'
import { writeDataOutputs } from '../../src/results/data-output.js'
import { readSources } from '../../src/sources/index.js'
import { batchRef } from '../../src/state/manifest.js'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'

// More rows than one block of texts read back (1,024), so that blocks and read-ahead are crossed.
const ROWS = 2_500
const failing = (i: number) => i % 7 === 3

let sim: BatchSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function planOf(ws: string, data: string): Promise<Plan> {
  const problems: unknown[] = []
  const ctx = { workspace: ws, outputDir: 'generated', defaults: { model: 'claude-haiku-4-5', maxTokens: 30 }, problem: (p: unknown) => problems.push(p), warning: () => {} }
  const plan = await buildPlan(readSources({ prompts: [], promptsIsDefault: true, data, template: 'templates/t.md' }, ctx), {
    workspace: ws,
    spoolPath: path.join(await mkdtemp(path.join(tmpdir(), 'spool-')), 'spool'),
    tag: newTag(),
    problem: (p) => problems.push(p)
  })
  expect(problems).toEqual([])
  return plan
}

describe('writeDataOutputs', () => {
  it.each(['csv', 'jsonl'] as const)(
    "puts each row's own text on it, in row order, from %s results that came back shuffled",
    async (format) => {
      sim = await BatchSimulator.start()
      const ws = await mkdtemp(path.join(tmpdir(), 'data-out-'))
      await mkdir(path.join(ws, 'data'))
      await mkdir(path.join(ws, 'templates'))
      const subject = (i: number) => (failing(i) ? `Row${i} SIMULATE_ERROR:api_error` : `Row${i}, "quoted" parcel`)
      const data = `data/rows.${format}`
      const rows = Array.from({ length: ROWS }, (_, i) => ({ id: `R${i}`, subject: subject(i) }))
      await writeFile(
        path.join(ws, data),
        format === 'csv' ? 'id,subject\n' + rows.map((r) => `${r.id},"${r.subject.replace(/"/g, '""')}"`).join('\n') + '\n' : rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
      )
      await writeFile(path.join(ws, 'templates/t.md'), 'Classify: {{subject}}\n')
      const plan = await planOf(ws, data)
      expect(plan.requests).toHaveLength(ROWS)

      const client = createClient({ apiKey: DEFAULT_API_KEY, baseURL: sim.url })
      const made = await createBatch(client, { body: () => batchBody(plan.spoolPath, plan.requests), requestCount: ROWS, known: new Set(), log: () => {}, sleep: async () => {} })
      const ref = batchRef(made.verified ? made.batch : made.candidates[0]!, 0, true)
      const temp = await mkdtemp(path.join(tmpdir(), 'data-results-'))
      const collector = await ResultCollector.create({ plan, workspace: ws, resultsPath: path.join(temp, 'results.jsonl'), prices: {} })
      let results: string
      try {
        await gather(client, plan, [ref], collector, { deadline: Date.now() + 20_000, maxIntervalMs: 50 })
        await writeDataOutputs(plan, collector, ws)
        results = await readFile(path.join(temp, 'results.jsonl'), 'utf8')
      } finally {
        await collector.close()
      }
      // The simulator's order is not the rows' order: the read-back must put it right.
      const ids = results
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id)
      expect(ids).not.toEqual(plan.requests.map((r) => r.customId))
      // The spool of texts is gone with the collector.
      expect(await readdir(temp)).toEqual(['results.jsonl'])

      const out = await readFile(path.join(ws, plan.dataOutputs[0]!.path), 'utf8')
      const written: Array<{ id: string; subject: string; output: string }> =
        format === 'csv'
          ? parse(out, { columns: true })
          : out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l))
      expect(written).toHaveLength(ROWS)
      written.forEach((row, i) => {
        expect(row.id).toBe(`R${i}`)
        if (failing(i)) expect(row.output).toBe('')
        else expect(row.output).toContain(`Row${i},`)
      })
      expect(collector.counts).toEqual({ succeeded: ROWS - rows.filter((_, i) => failing(i)).length, errored: rows.filter((_, i) => failing(i)).length, canceled: 0, expired: 0 })
    },
    60_000
  )
})
