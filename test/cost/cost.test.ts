import { describe, expect, it } from '@jest/globals'
import { CostTally, standardCost } from '../../src/cost/cost.js'
import { parsePriceOverrides, priceFor } from '../../src/cost/prices.js'

describe('prices', () => {
  it('knows current models, dated ids included, at the 2026 prices', () => {
    expect(priceFor('claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5 })
    expect(priceFor('claude-sonnet-4-6')).toMatchObject({ input: 3, output: 15 })
    expect(priceFor('claude-unknown-9')).toBeUndefined()
  })

  it('lets the user override and add prices', () => {
    const overrides = parsePriceOverrides('claude-haiku-4-5: { input: 2, output: 8 }\nmy-model: { input: 1, output: 1, cache-read: 0 }')
    expect(priceFor('claude-haiku-4-5', overrides)).toMatchObject({ input: 2, output: 8, cacheWrite5m: 2.5 })
    expect(priceFor('my-model', overrides)).toMatchObject({ cacheRead: 0 })
    expect(() => parsePriceOverrides('claude-haiku-4-5: { in: 1 }')).toThrow(/unknown key "in"/)
    expect(() => parsePriceOverrides('[1, 2]')).toThrow(/mapping/)
  })
})

describe('cost', () => {
  it('charges batch requests half the standard price', () => {
    const tally = new CostTally({})
    tally.add('claude-haiku-4-5-20251001', { input_tokens: 1_000_000, output_tokens: 1_000_000 })
    expect(tally.standard).toBeCloseTo(6)
    expect(tally.batch).toBeCloseTo(3)
  })

  it('prices cache reads and 1-hour cache writes by their multipliers', () => {
    const price = priceFor('claude-haiku-4-5')!
    const usage = {
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 1_000_000,
      cache_creation_input_tokens: 1_000_000,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 1_000_000 }
    }
    expect(standardCost(price, usage)).toBeCloseTo(0.1 + 2)
  })

  it("applies Haiku 5.5's long-prompt tier to every token of a long request", () => {
    const price = priceFor('claude-haiku-5-5')!
    expect(standardCost(price, { input_tokens: 100_000, output_tokens: 0 })).toBeCloseTo(0.01)
    expect(standardCost(price, { input_tokens: 100_001, output_tokens: 0 })).toBeCloseTo(0.0500005)
  })

  it('names models it has no price for instead of pretending they were free', () => {
    const tally = new CostTally({})
    tally.add('mystery-model', { input_tokens: 10, output_tokens: 10 })
    expect([...tally.unpriced]).toEqual(['mystery-model'])
  })
})
