import { BATCH_DISCOUNT, priceFor, type ModelPrice, type PriceOverrides } from './prices.js'

/** The token counts of a Messages API `usage` object that are billed. */
export interface TokenUsage {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null
}

/** Standard-price cost in USD of one request's usage. Batch cost is this times BATCH_DISCOUNT. */
export function standardCost(price: ModelPrice, usage: TokenUsage): number {
  const read = usage.cache_read_input_tokens ?? 0
  const written = usage.cache_creation_input_tokens ?? 0
  // Without the 5m/1h breakdown, assume the default 5-minute cache.
  const write1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0
  const write5m = usage.cache_creation ? (usage.cache_creation.ephemeral_5m_input_tokens ?? 0) : written
  const prompt = usage.input_tokens + read + write5m + write1h
  const tier = price.longPrompt && prompt > price.longPrompt.threshold ? price.longPrompt : price
  return (
    (usage.input_tokens * tier.input +
      write5m * tier.cacheWrite5m +
      write1h * tier.cacheWrite1h +
      read * tier.cacheRead +
      usage.output_tokens * tier.output) /
    1_000_000
  )
}

/** Sums usage and cost of the succeeded requests of a run, per model. */
export class CostTally {
  readonly tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }
  standard = 0
  /** Models that had usage but no known price: their cost is missing from the totals. */
  readonly unpriced = new Set<string>()

  constructor(private readonly overrides: PriceOverrides) {}

  add(model: string, usage: TokenUsage): void {
    this.tokens.input += usage.input_tokens
    this.tokens.output += usage.output_tokens
    this.tokens.cacheRead += usage.cache_read_input_tokens ?? 0
    this.tokens.cacheWrite += usage.cache_creation_input_tokens ?? 0
    const price = priceFor(model, this.overrides)
    if (price) this.standard += standardCost(price, usage)
    else this.unpriced.add(model)
  }

  merge(other: CostTally): void {
    for (const key of Object.keys(this.tokens) as Array<keyof CostTally['tokens']>) this.tokens[key] += other.tokens[key]
    this.standard += other.standard
    for (const model of other.unpriced) this.unpriced.add(model)
  }

  get batch(): number {
    return this.standard * BATCH_DISCOUNT
  }
}

export function formatUsd(value: number): string {
  if (value === 0) return '$0.00'
  if (value < 0.01) return `$${value.toFixed(4)}`
  return `$${value.toFixed(2)}`
}
