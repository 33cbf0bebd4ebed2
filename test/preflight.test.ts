/**
 * The input-token check: every request against its model's max_input_tokens before anything is
 * spent, counting the sample plus the requests large enough to be at risk, never all of them.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createClient } from '../src/anthropic/client.js'
import { checkModels, estimateCost } from '../src/preflight.js'
import type { Plan, PlannedRequest } from '../src/plan/plan.js'
import { SpoolWriter } from '../src/plan/spool.js'
import type { Problem } from '../src/sources/types.js'
import { BatchSimulator, DEFAULT_API_KEY, DEFAULT_MODELS } from './support/simulator.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

interface Item {
  text: string
  model?: string
  file?: string
}

/** A plan whose requests are these prompts, spooled as planning spools them. */
async function planOf(items: Item[]): Promise<Plan> {
  const spoolPath = path.join(await mkdtemp(path.join(tmpdir(), 'cba-preflight-')), 'spool.jsonl')
  const spool = new SpoolWriter(spoolPath)
  const requests: PlannedRequest[] = []
  for (const [i, item] of items.entries()) {
    const model = item.model ?? 'claude-haiku-4-5'
    const at = await spool.append({ model, max_tokens: 10, messages: [{ role: 'user', content: item.text }] })
    requests.push({ customId: `r${i}`, origin: { file: item.file ?? `prompts/p${i}.md`, line: 5 }, model, maxTokens: 10, ...at })
  }
  await spool.close()
  return { tag: 'abcd2345', requests, chunks: [], spoolPath, dataOutputs: [] }
}

async function check(plan: Plan) {
  simulator ??= await BatchSimulator.start()
  const client = createClient({ apiKey: DEFAULT_API_KEY, baseURL: simulator.url })
  const problems: Problem[] = []
  const warnings: Problem[] = []
  const usable = await checkModels(
    client,
    plan,
    (p) => problems.push(p),
    (p) => warnings.push(p),
    () => {}
  )
  const countCalls = () => simulator!.calls.filter((c) => c.path.startsWith('/v1/messages/count_tokens')).length
  const counted = countCalls()
  const estimate = await estimateCost(client, plan, {}, () => {})
  return { usable, problems, warnings, counted, countedByEstimate: countCalls() - counted, estimate }
}

// The simulator counts ~4 characters a token: 900,000 characters are ~225,000 tokens.
const OVER_200K = 'x'.repeat(900_000)
const UNDER_200K = 'y'.repeat(500_000)

describe('input tokens against max_input_tokens', () => {
  it('counts every request of a small run and refuses the one over the limit, on its file and line', async () => {
    const plan = await planOf([{ text: 'Hi' }, { text: OVER_200K, file: 'prompts/huge.md' }, { text: OVER_200K, model: 'claude-sonnet-4-6' }])
    const { problems, counted, countedByEstimate, estimate } = await check(plan)
    expect(problems).toEqual([
      { file: 'prompts/huge.md', line: 5, message: expect.stringMatching(/^This request is 225,0\d\d input tokens; claude-haiku-4-5 accepts 200,000: shorten it\.$/) }
    ])
    // Each request once, by the check; the estimate reuses the counts.
    expect(counted).toBe(3)
    expect(countedByEstimate).toBe(0)
    expect(estimate.method).toBe('counted with count_tokens')
  })

  it('in a sampled run, counts the sample plus the requests at risk, not every request', async () => {
    const items: Item[] = Array.from({ length: 200 }, (_, i) => ({ text: `Prompt ${i}` }))
    items[37] = { text: OVER_200K, file: 'prompts/big.md' }
    items[151] = { text: UNDER_200K }
    const { problems, warnings, counted, countedByEstimate } = await check(await planOf(items))
    expect(problems).toEqual([{ file: 'prompts/big.md', line: 5, message: expect.stringMatching(/225,0\d\d input tokens; claude-haiku-4-5 accepts 200,000/) }])
    expect(warnings).toEqual([])
    // 20 sampled + the 2 at risk (neither falls in the evenly spread sample of 200).
    expect(counted).toBe(22)
    expect(countedByEstimate).toBe(0)
  })

  it('without count_tokens, refuses a request whose size alone puts it far over, and says it was not counted', async () => {
    simulator = await BatchSimulator.start()
    simulator.injectFault({ path: '/v1/messages/count_tokens', kind: 'status', status: 500, times: 1000 })
    const { problems, warnings, usable } = await check(await planOf([{ text: 'Hi' }, { text: 'z'.repeat(2_000_000), file: 'prompts/giant.md' }]))
    expect(usable).toBe(true)
    expect(problems).toEqual([
      { file: 'prompts/giant.md', line: 5, message: 'This request is ~500,000 input tokens (estimated from its size); claude-haiku-4-5 accepts 200,000: shorten it.' }
    ])
    expect(warnings).toEqual([
      expect.objectContaining({ file: 'prompts/giant.md', message: expect.stringMatching(/^1 large request\(s\) were checked .* by size only \(count_tokens failed: .*HTTP 500/) })
    ])
  })
})

describe('structured outputs', () => {
  it('refuses a schema for a model that does not report structured outputs, on the file that asks for it', async () => {
    const models = DEFAULT_MODELS.map((m) => (m.id.startsWith('claude-haiku-4-5') ? { ...m, capabilities: { ...m.capabilities!, structured_outputs: { supported: false } } } : m))
    simulator = await BatchSimulator.start({ models })
    const plan = await planOf([{ text: 'Classify', file: 'prompts/typed.md' }, { text: 'Plain' }])
    plan.requests[0]!.schema = 0
    const { problems } = await check(plan)
    expect(problems).toEqual([{ file: 'prompts/typed.md', line: 5, message: expect.stringContaining('does not support structured outputs') }])
  })
})
