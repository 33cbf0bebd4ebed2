import { parse } from 'yaml'

/** Standard (non-batch) prices in USD per million tokens. */
export interface ModelPrice {
  input: number
  output: number
  cacheWrite5m: number
  cacheWrite1h: number
  cacheRead: number
  /** A long-prompt tier: when a request's prompt exceeds `threshold` tokens, all its tokens cost these prices. */
  longPrompt?: { threshold: number } & Omit<ModelPrice, 'longPrompt'>
}

/** Batches cost half the standard price on every token kind; cache multipliers stack on top. */
export const BATCH_DISCOUNT = 0.5

export const PRICE_SOURCE =
  'Anthropic pricing (platform.claude.com/docs/en/about-claude/pricing) and the Message Batches guide, ' +
  'as of 2026-11-24; Fable 5.2 and Haiku 5.5 from third-party reports of 2026-11-10. Override with the model-prices input.'

const p = (input: number, output: number, cacheRead = input / 10): ModelPrice => ({
  input,
  output,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
  cacheRead
})

/** Keyed by model id without a date suffix (`claude-haiku-4-5-20251001` → `claude-haiku-4-5`). */
const TABLE: Record<string, ModelPrice> = {
  'claude-fable-5-2': p(8, 40, 0.2),
  'claude-fable-5-1': p(10, 50, 0.25),
  'claude-mythos-5-1': p(10, 50, 0.25),
  'claude-fable-5': p(10, 50, 1),
  'claude-mythos-5': p(10, 50, 1),
  'claude-opus-5-5': p(4, 20, 0.2),
  'claude-opus-5': p(5, 25),
  'claude-opus-4-8': p(5, 25),
  'claude-opus-4-7': p(5, 25),
  'claude-opus-4-6': p(5, 25),
  'claude-opus-4-5': p(5, 25),
  'claude-opus-4-1': p(15, 75),
  'claude-sonnet-5-5': p(2, 10, 0.1),
  'claude-sonnet-5': p(3, 15),
  'claude-sonnet-4-6': p(3, 15),
  'claude-sonnet-4-5': p(3, 15),
  'claude-haiku-5-5': { ...p(0.1, 0.5, 0.01), longPrompt: { threshold: 100_000, ...p(0.5, 2.5, 0.05) } },
  'claude-haiku-4-5': p(1, 5)
}

/**
 * The minimum cacheable prompt length in tokens, per model: a prefix shorter than this is not cached
 * even when marked with cache_control (no error: it is billed as plain input). From Anthropic's prompt
 * caching docs ("Cache limitations", platform.claude.com/docs/en/build-with-claude/prompt-caching,
 * as quoted on 2026-10-08). Fable 5.2 and Mythos 5.2 are not listed there yet: like every model not in
 * this table they get the range of the table (see minCacheTokens).
 */
const MIN_CACHE_TOKENS: Record<string, number> = {
  'claude-fable-5-1': 512,
  'claude-mythos-5-1': 512,
  'claude-opus-5-5': 512,
  'claude-opus-5': 512,
  'claude-sonnet-5-5': 512,
  'claude-fable-5': 512,
  'claude-mythos-5': 512,
  'claude-haiku-5-5': 512,
  'claude-opus-4-8': 1024,
  'claude-sonnet-5': 1024,
  'claude-sonnet-4-6': 1024,
  'claude-sonnet-4-5': 1024,
  'claude-opus-4-1': 1024,
  'claude-opus-4': 1024,
  'claude-sonnet-4': 1024,
  'claude-mythos-preview': 2048,
  'claude-opus-4-7': 2048,
  'claude-opus-4-6': 4096,
  'claude-opus-4-5': 4096,
  'claude-haiku-4-5': 4096
}
const MIN_CACHE_VALUES = Object.values(MIN_CACHE_TOKENS)

/**
 * The model's minimum cacheable prompt length as a range: `low` decides whether a prefix is worth a
 * cache_control (marking a prefix the API finds too short costs nothing), `high` whether the estimate
 * may count on the cache. Equal for a model in the table; the table's whole range for any other.
 */
export function minCacheTokens(model: string): { low: number; high: number } {
  const known = MIN_CACHE_TOKENS[baseModelId(model)]
  return known ? { low: known, high: known } : { low: Math.min(...MIN_CACHE_VALUES), high: Math.max(...MIN_CACHE_VALUES) }
}

export type PriceOverrides = Record<string, ModelPrice>

/**
 * Parses the `model-prices` input: YAML or JSON mapping a model id to standard prices in USD per
 * million tokens, e.g. `claude-haiku-4-5: { input: 1, output: 5 }`. Cache prices default to the
 * usual multipliers of the input price.
 */
export function parsePriceOverrides(text: string): PriceOverrides {
  let parsed: unknown
  try {
    parsed = parse(text)
  } catch (error) {
    throw new Error(`not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`, { cause: error })
  }
  if (!isRecord(parsed)) throw new Error('expected a mapping of model id to { input, output } prices per million tokens.')
  const result: PriceOverrides = {}
  for (const [model, value] of Object.entries(parsed)) {
    const known = ['input', 'output', 'cache-write-5m', 'cache-write-1h', 'cache-read']
    if (!isRecord(value)) throw new Error(`${model}: expected { input: <USD>, output: <USD> } per million tokens.`)
    const unknown = Object.keys(value).filter((k) => !known.includes(k))
    if (unknown.length) throw new Error(`${model}: unknown key "${unknown[0]}"; allowed: ${known.join(', ')}.`)
    const number = (key: string, required: boolean): number | undefined => {
      const v = value[key]
      if (v === undefined && !required) return undefined
      if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${model}: ${key} must be a price in USD per million tokens.`)
      return v
    }
    const input = number('input', true)!
    const base = p(input, number('output', true)!)
    result[baseModelId(model)] = {
      ...base,
      cacheWrite5m: number('cache-write-5m', false) ?? base.cacheWrite5m,
      cacheWrite1h: number('cache-write-1h', false) ?? base.cacheWrite1h,
      cacheRead: number('cache-read', false) ?? base.cacheRead
    }
  }
  return result
}

export function baseModelId(model: string): string {
  return model.replace(/-\d{8}$/, '')
}

export function priceFor(model: string, overrides: PriceOverrides = {}): ModelPrice | undefined {
  const id = baseModelId(model)
  return overrides[id] ?? overrides[model] ?? TABLE[id]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
