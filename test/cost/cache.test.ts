/**
 * Prompt caching in the cost: the estimate (one one-hour write per shared prefix and batch, reads for the rest,
 * prefixes counted with count_tokens) and the actual cost and saving from usage's cache fields.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createClient } from '../../src/anthropic/client.js'
import { cacheSavings, CostTally, sharedPrefixCost } from '../../src/cost/cost.js'
import { minCacheTokens, priceFor } from '../../src/cost/prices.js'
import { buildPlan, type Plan } from '../../src/plan/plan.js'
import type { CacheMode } from '../../src/plan/cache.js'
import { estimateCost } from '../../src/preflight.js'
import type { PromptRequest } from '../../src/sources/types.js'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

const haiku = priceFor('claude-haiku-4-5')!

describe('cache prices', () => {
  it('keeps the minimum cacheable length per model beside the prices, and a range for unknown models', () => {
    expect(minCacheTokens('claude-haiku-4-5-20251001')).toEqual({ low: 4096, high: 4096 })
    expect(minCacheTokens('claude-opus-5-5')).toEqual({ low: 512, high: 512 })
    expect(minCacheTokens('claude-sonnet-4-6')).toEqual({ low: 1024, high: 1024 })
    expect(minCacheTokens('my-model')).toEqual({ low: 512, high: 4096 })
  })

  it('prices a shared prefix as one one-hour write and reads, at each model’s read multiplier', () => {
    // 1M tokens shared by 10 requests on Haiku 4.5: 2 + 9 × 0.1 = $2.90 instead of $10.
    expect(sharedPrefixCost(haiku, 1_000_000, 10)).toBeCloseTo(2.9 - 10)
    // Opus 5.5 reads at 0.05×: 8 + 9 × 0.2 = $9.80 instead of $40.
    expect(sharedPrefixCost(priceFor('claude-opus-5-5')!, 1_000_000, 10)).toBeCloseTo(9.8 - 40)
    // Two requests: caching costs a little more than plain input.
    expect(sharedPrefixCost(haiku, 1_000_000, 2)).toBeCloseTo(0.1)
  })

  it('tallies what caching saved from usage: reads save, one-hour writes cost', () => {
    const tally = new CostTally({})
    const write = {
      input_tokens: 10,
      output_tokens: 0,
      cache_creation_input_tokens: 1_000_000,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 1_000_000 }
    }
    const read = { input_tokens: 10, output_tokens: 0, cache_read_input_tokens: 1_000_000 }
    expect(cacheSavings(haiku, write)).toBeCloseTo(-1)
    expect(cacheSavings(haiku, read)).toBeCloseTo(0.9)
    tally.add('claude-haiku-4-5', write)
    const other = new CostTally({})
    other.add('claude-haiku-4-5', read)
    other.add('claude-haiku-4-5', read)
    tally.merge(other)
    expect(tally.cacheSavedStandard).toBeCloseTo(0.8)
    expect(tally.tokens).toMatchObject({ cacheRead: 2_000_000, cacheWrite: 1_000_000 })
  })
})

// The simulator counts 4 characters a token: 20,000 characters are 5,000 tokens, above Haiku 4.5's 4,096.
const SYSTEM = 'x'.repeat(20_000)

async function plan(n: number, cache: CacheMode, system = SYSTEM): Promise<Plan> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cache-cost-'))
  async function* sources(): AsyncGenerator<PromptRequest> {
    for (let i = 0; i < n; i++) {
      yield { key: `r${i}`, origin: { file: 'p.md' }, params: { model: 'claude-haiku-4-5', max_tokens: 10, system, messages: [{ role: 'user', content: `Row ${i}` }] } }
    }
  }
  return buildPlan(sources(), { workspace: dir, spoolPath: path.join(dir, 'spool.jsonl'), tag: 'abcd', cache, problem: () => {} })
}

async function client() {
  simulator ??= await BatchSimulator.start()
  return createClient({ apiKey: DEFAULT_API_KEY, baseURL: simulator.url })
}

describe('the estimate with prompt caching', () => {
  it('counts the shared prefix with count_tokens and prices one write and reads for the rest', async () => {
    const [auto, off] = [await plan(10, 'auto'), await plan(10, 'off')]
    const withCache = await estimateCost(await client(), auto, {}, () => {})
    const without = await estimateCost(await client(), off, {}, () => {})
    expect(withCache.cache).toEqual({ prefixes: 1, writeTokens: 5_000, readTokens: 45_000, standardUsd: expect.any(Number), worstStandardUsd: expect.any(Number), uncounted: 0 })
    expect(withCache.cache!.standardUsd).toBeCloseTo(sharedPrefixCost(haiku, 5_000, 10))
    expect(without.cache).toBeUndefined()
    expect(withCache.batchUsd!).toBeLessThan(without.batchUsd!)
    expect(auto.caching!.tokens.get(auto.requests[0]!.cache!.system!.key)).toBe(5_000)
  })

  it('assumes no saving for a prefix it could not count (a dry run without a key), so it stays an upper bound', async () => {
    const [auto, off] = [await plan(10, 'auto'), await plan(10, 'off')]
    const withCache = await estimateCost(undefined, auto, {}, () => {})
    const without = await estimateCost(undefined, off, {}, () => {})
    expect(withCache.cache).toMatchObject({ prefixes: 1, uncounted: 1, writeTokens: 0 })
    expect(withCache.batchUsd).toBeCloseTo(without.batchUsd!)
  })

  it('drops a prefix that count_tokens finds too short for the model', async () => {
    // 8,000 characters: 2,000 tokens, too few for Haiku 4.5, though 8,000 bytes could have been enough.
    const auto = await plan(5, 'auto', 'y'.repeat(8_000))
    const estimate = await estimateCost(await client(), auto, {}, () => {})
    expect(estimate.cache).toBeUndefined()
  })
})
