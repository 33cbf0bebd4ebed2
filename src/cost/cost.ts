import { BATCH_DISCOUNT, priceFor, type ModelPrice, type PriceOverrides } from './prices.js'

/** The token counts of a Messages API `usage` object that are billed. */
export interface TokenUsage {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null
}

/** The cache token counts of a usage, and the price tier its whole prompt falls in. */
function cacheParts(price: ModelPrice, usage: TokenUsage) {
  const read = usage.cache_read_input_tokens ?? 0
  const written = usage.cache_creation_input_tokens ?? 0
  // Without the 5m/1h breakdown, assume the default 5-minute cache.
  const write1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0
  const write5m = usage.cache_creation ? (usage.cache_creation.ephemeral_5m_input_tokens ?? 0) : written
  const prompt = usage.input_tokens + read + write5m + write1h
  const tier = price.longPrompt && prompt > price.longPrompt.threshold ? price.longPrompt : price
  return { read, write5m, write1h, tier }
}

/** Standard-price cost in USD of one request's usage. Batch cost is this times BATCH_DISCOUNT. */
export function standardCost(price: ModelPrice, usage: TokenUsage): number {
  const { read, write5m, write1h, tier } = cacheParts(price, usage)
  return (usage.input_tokens * tier.input + write5m * tier.cacheWrite5m + write1h * tier.cacheWrite1h + read * tier.cacheRead + usage.output_tokens * tier.output) / 1_000_000
}

/**
 * What prompt caching saved on one request, at standard prices (USD): its cached tokens priced as plain
 * input, less what they cost as cache reads and writes. Negative for a request that only wrote.
 */
export function cacheSavings(price: ModelPrice, usage: TokenUsage): number {
  const { read, write5m, write1h, tier } = cacheParts(price, usage)
  return (read * (tier.input - tier.cacheRead) + write5m * (tier.input - tier.cacheWrite5m) + write1h * (tier.input - tier.cacheWrite1h)) / 1_000_000
}

/**
 * The estimate's change, at standard prices (USD), when `n` requests of one batch share a cached prefix
 * of `tokens` tokens: one one-hour cache write and n - 1 cache reads instead of n times plain input.
 */
export function sharedPrefixCost(price: ModelPrice, tokens: number, n: number): number {
  return (tokens * (price.cacheWrite1h + (n - 1) * price.cacheRead - n * price.input)) / 1_000_000
}

/** Sums usage and cost of the succeeded requests of a run, per model. */
export class CostTally {
  readonly tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }
  standard = 0
  /** What prompt caching saved, at standard prices (cacheSavings); batch: times BATCH_DISCOUNT. */
  cacheSavedStandard = 0
  /** Models that had usage but no known price: their cost is missing from the totals. */
  readonly unpriced = new Set<string>()

  constructor(private readonly overrides: PriceOverrides) {}

  add(model: string, usage: TokenUsage): void {
    this.tokens.input += usage.input_tokens
    this.tokens.output += usage.output_tokens
    this.tokens.cacheRead += usage.cache_read_input_tokens ?? 0
    this.tokens.cacheWrite += usage.cache_creation_input_tokens ?? 0
    const price = priceFor(model, this.overrides)
    if (price) {
      this.standard += standardCost(price, usage)
      this.cacheSavedStandard += cacheSavings(price, usage)
    } else this.unpriced.add(model)
  }

  merge(other: CostTally): void {
    for (const key of Object.keys(this.tokens) as Array<keyof CostTally['tokens']>) this.tokens[key] += other.tokens[key]
    this.standard += other.standard
    this.cacheSavedStandard += other.cacheSavedStandard
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
