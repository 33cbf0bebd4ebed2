/**
 * Prompt caching against the budget: cache hits in a batch are best effort, and a request that misses
 * writes the prefix again at 2× input. max-cost promises to refuse a run that could cost more, so it
 * must count the misses, not only the hits the estimate hopes for.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

async function run(workspace: string, inputs: Record<string, string>): Promise<ActionRun> {
  simulator ??= await BatchSimulator.start()
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2', 'wait-minutes': '1', 'lock-file': '', ...inputs }
  })
}

// ~5,000 tokens: above Haiku 4.5's minimum cacheable length of 4,096.
const STYLE_GUIDE = 'Write in plain words, short sentences, active voice. '.repeat(380).trim()

describe('attack: max-cost with prompt caching', () => {
  it('refuses a run whose cache misses could cost more than max-cost, even though its hits would not', async () => {
    const files: Record<string, string> = { 'style.md': STYLE_GUIDE + '\n' }
    for (let i = 0; i < 10; i++) files[`prompts/${i}.md`] = `---\nmax_tokens: 16\n---\nDescribe thing ${i}.\n`
    const workspace = await makeWorkspace(files)
    const cached = await run(workspace, { 'system-prompt-file': 'style.md', 'dry-run': 'true' })
    const plain = await run(workspace, { 'system-prompt-file': 'style.md', 'dry-run': 'true', cache: 'off' })
    const hits = Number(cached.outputs['estimated-cost-usd'])
    const noCache = Number(plain.outputs['estimated-cost-usd'])
    expect(hits).toBeLessThan(noCache)

    // Enough for every request without caching, and for the hoped-for hits; not for ten cache writes (2× input each).
    const refused = await run(workspace, { 'system-prompt-file': 'style.md', 'max-cost': noCache.toFixed(4) })
    expect(refused.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(0)
    expect(refused.stdout + refused.stderr).toMatch(/exceeds max-cost.*cache: off/s)

    const off = await run(workspace, { 'system-prompt-file': 'style.md', 'max-cost': (noCache + 0.0001).toFixed(4), cache: 'off' })
    expect(off.exitCode).toBe(0)
    expect(simulator!.batches()).toHaveLength(1)
  }, 60000)
})
