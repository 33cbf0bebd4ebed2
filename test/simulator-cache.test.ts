/**
 * The simulator's prompt caching, pinned to the docs (test/support/simulator-cache.ts): writes by the first
 * request with a cacheable prefix, reads by later ones, nothing below the model's minimum, input_tokens without
 * the cached tokens, and malformed cache_control rejected.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { Anthropic } from '@anthropic-ai/sdk'
import type { BatchCreateParams, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches'
import type { Message } from '@anthropic-ai/sdk/resources/messages'
import { BatchSimulator, DEFAULT_API_KEY, estimateInputTokens } from './support/simulator.js'

let sim: BatchSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

type Params = BatchCreateParams.Request['params']
const ONE_HOUR = { type: 'ephemeral', ttl: '1h' } as const
// The simulator counts 4 characters a token: 20,000 characters are 5,000 tokens, above Haiku 4.5's 4,096.
const LONG = 'x'.repeat(20_000)
const SHORT = 'x'.repeat(8_000) // 2,000 tokens: below Haiku 4.5's minimum, above Sonnet 4.6's 1,024

const cached = (text: string, model = 'claude-haiku-4-5', user = 'Hello', ttl: object = ONE_HOUR): Params =>
  ({ model, max_tokens: 50, system: [{ type: 'text', text, cache_control: ttl }], messages: [{ role: 'user', content: user }] }) as Params

async function run(params: Params[]): Promise<Map<string, MessageBatchIndividualResponse['result']>> {
  sim = await BatchSimulator.start({ processingMs: 0 })
  const client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url })
  const batch = await client.messages.batches.create({ requests: params.map((p, i) => ({ custom_id: `r${i}`, params: p })) })
  const results = new Map<string, MessageBatchIndividualResponse['result']>()
  for await (const line of await client.messages.batches.results(batch.id)) results.set(line.custom_id, line.result)
  return results
}

const usage = (r: MessageBatchIndividualResponse['result'] | undefined) => (r as { message: Message }).message.usage

describe('simulator prompt caching', () => {
  it('writes a one-hour prefix once, reads it after, and leaves cached tokens out of input_tokens', async () => {
    const params = [cached(LONG, 'claude-haiku-4-5', 'one'), cached(LONG, 'claude-haiku-4-5', 'two'), cached(LONG, 'claude-haiku-4-5', 'six')]
    const results = await run(params)
    const total = estimateInputTokens(params[0] as never)
    const prefix = 3 + 5_000 // request overhead + system
    expect(usage(results.get('r0'))).toMatchObject({
      cache_creation_input_tokens: prefix,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: prefix },
      input_tokens: total - prefix
    })
    for (const id of ['r1', 'r2']) {
      expect(usage(results.get(id))).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix, input_tokens: total - prefix })
    }
  })

  it('caches nothing below the model minimum, and counts a 5-minute write as such', async () => {
    const results = await run([cached(SHORT), cached(SHORT), cached(SHORT, 'claude-sonnet-4-6', 'x', { type: 'ephemeral' })])
    expect(usage(results.get('r1'))).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
    expect(usage(results.get('r2'))!.cache_creation).toEqual({ ephemeral_5m_input_tokens: 2_003, ephemeral_1h_input_tokens: 0 })
  })

  it('keeps prefixes apart by model and by content, and plain strings are never cached', async () => {
    const plain = { model: 'claude-haiku-4-5', max_tokens: 50, system: LONG, messages: [{ role: 'user', content: 'a' }] } as Params
    const results = await run([cached(LONG), cached(LONG + 'y'), cached(LONG, 'claude-sonnet-4-6'), plain, plain])
    for (const id of ['r0', 'r1', 'r2']) expect(usage(results.get(id))!.cache_read_input_tokens).toBe(0)
    expect(usage(results.get('r4'))).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
  })

  it('errors a request with more than four breakpoints or an unknown ttl', async () => {
    const block = { type: 'text', text: 'a', cache_control: ONE_HOUR }
    const five = { model: 'claude-haiku-4-5', max_tokens: 5, system: [block, block, block, block, block], messages: [{ role: 'user', content: 'x' }] } as Params
    const results = await run([five, cached(LONG, 'claude-haiku-4-5', 'x', { type: 'ephemeral', ttl: '2h' })])
    expect(results.get('r0')).toMatchObject({ type: 'errored', error: { error: { message: 'A maximum of 4 blocks with cache_control may be provided. Found 5.' } } })
    expect(results.get('r1')).toMatchObject({ type: 'errored', error: { error: { type: 'invalid_request_error' } } })
  })
})
