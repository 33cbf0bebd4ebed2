/**
 * Prompt caching, end to end: the bundled action run as a process against the simulator, which honours
 * cache_control the way the docs describe (test/support/simulator-cache.ts).
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

async function run(files: Record<string, string>, inputs: Record<string, string>): Promise<ActionRun> {
  simulator = await BatchSimulator.start()
  return runAction({
    workspace: await makeWorkspace(files),
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2', 'wait-minutes': '1', ...inputs }
  })
}

/** What the simulator was sent: each request's params, in order. */
const sent = () => simulator!.batches().flatMap((b) => b.requests.map((r) => r.params as Record<string, unknown>))

// A style guide of ~5,000 tokens (the simulator counts 4 characters a token): above Haiku 4.5's minimum of 4,096.
const STYLE_GUIDE = 'Write in plain words, short sentences, active voice. '.repeat(380).trim()
const PROMPTS = {
  'style.md': STYLE_GUIDE + '\n',
  'prompts/a.md': 'Describe a teapot.\n',
  'prompts/b.md': 'Describe a kettle.\n',
  'prompts/c.md': 'Describe a mug.\n'
}

describe('prompt caching', () => {
  it('sends a long shared system prompt with a one-hour cache_control, and the summary reports the cache', async () => {
    const result = await run(PROMPTS, { 'system-prompt-file': 'style.md' })
    expect(result.exitCode).toBe(0)
    const params = sent()
    expect(params).toHaveLength(3)
    for (const p of params) expect(p.system).toEqual([{ type: 'text', text: STYLE_GUIDE, cache_control: { type: 'ephemeral', ttl: '1h' } }])
    expect(result.summary).toMatch(
      /Prompt cache \(estimated\)<\/strong><\/td><td>1 shared prefix with a one-hour cache_control: [\d,]+ tokens written, [\d,]+ read; saves about \$/
    )
    // One request wrote the prefix, two read it: what they read and what that saved is in the results.
    expect(result.summary).toMatch(/Prompt cache: [1-9][\d,]* input tokens read from the cache, [1-9][\d,]* written to it; caching saved \$/)
    expect(Number(result.outputs['cost-usd'])).toBeLessThanOrEqual(Number(result.outputs['estimated-cost-usd']))
  })

  it('cache: off sends plain strings and reports no cache', async () => {
    const result = await run(PROMPTS, { 'system-prompt-file': 'style.md', cache: 'off' })
    expect(result.exitCode).toBe(0)
    for (const p of sent()) expect(p.system).toBe(STYLE_GUIDE)
    expect(result.summary).not.toContain('Prompt cache')
  })

  it('marks a data template’s fixed lead and sends the row after it as a second block', async () => {
    const lead = `Classify the ticket by this taxonomy.\n\n${'billing: invoices, refunds, charges. shipping: delays, damage. '.repeat(300)}\n\nTicket: `
    const result = await run(
      { 'tickets.csv': 'id,subject\nT1,Broken lid\nT2,Late again\n', 'classify.md': `---\nmax_tokens: 20\n---\n${lead}{{subject}}\n` },
      { prompts: '', data: 'tickets.csv', template: 'classify.md' }
    )
    expect(result.exitCode).toBe(0)
    const [first] = sent()
    expect(first!.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: lead, cache_control: { type: 'ephemeral', ttl: '1h' } },
          { type: 'text', text: 'Broken lid' }
        ]
      }
    ])
    expect(result.summary).toMatch(/Prompt cache: [1-9][\d,]* input tokens read from the cache/)
  })
})
