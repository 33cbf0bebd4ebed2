import { APIConnectionError, AuthenticationError, PermissionDeniedError, type Anthropic } from '@anthropic-ai/sdk'
import { describeError, forAttempt } from './anthropic/client.js'
import { lookupModel } from './anthropic/models.js'
import { RetryDeadlineError, withRetry } from './anthropic/retry.js'
import { countTokens } from './anthropic/tokens.js'
import { BATCH_DISCOUNT, minCacheTokens, priceFor, type ModelPrice, type PriceOverrides } from './cost/prices.js'
import { sharedPrefixCost } from './cost/cost.js'
import { baselineRequest, cacheGroups, prefixRequest, type CacheGroup } from './plan/cache.js'
import { readParams } from './plan/spool.js'
import type { MessageParams } from './sources/types.js'
import type { Plan, PlannedRequest } from './plan/plan.js'
import { columnsOf } from './plan/table.js'
import type { Problem } from './sources/types.js'
import { esc, safeLine } from './report/escape.js'

type Report = (p: Problem) => void

/**
 * Asks the Models API about every model the plan uses, once each: unknown, retired or batch-less
 * models and `max_tokens` above a model's limit would otherwise surface only as errored rows when
 * the batch ends, hours later (batch-api.md §3.2). Also the first call that proves the key works.
 * Returns false when the API cannot be used at all (key rejected, unreachable).
 */
export async function checkModels(client: Anthropic, plan: Plan, problem: Report, warning: Report, rawLog: (line: string) => void): Promise<boolean> {
  // Model names come from prompt files and ids from the API: each log line is made safe here.
  const log = (line: string) => rawLog(safeLine(line))
  const inputLimits = new Map<string, number>()
  for (const [model, files] of byModelAndFile(plan.requests)) {
    let info
    try {
      info = await withRetry(`looking up model "${model}"`, (o) => lookupModel(forAttempt(client, o), model), { log })
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
        problem({ message: `The Anthropic API rejected the API key (${describeError(error)}). Check the secret given as anthropic-api-key.` })
        return false
      }
      if (error instanceof APIConnectionError || error instanceof RetryDeadlineError) {
        problem({ message: `Could not reach the Anthropic API (${describeError(error)}). Check anthropic-base-url and the runner's network.` })
        return false
      }
      problem({ message: `Could not look up model "${esc(model)}": ${esc(describeError(error))}` })
      continue
    }
    if (info) log(`${model}: ${info.id}, ${info.lifecycle}, up to ${info.max_tokens ?? '?'} output tokens, ${info.max_input_tokens ?? '?'} input tokens.`)
    if (info?.max_input_tokens) inputLimits.set(model, info.max_input_tokens)
    for (const [file, use] of files) {
      const where = { file, line: use.first.origin.line }
      const requests = use.count === 1 ? 'its request' : `its ${use.count} requests`
      if (!info) {
        problem({ ...where, message: `Model "${model}" is not known to the Anthropic Models API, so ${requests} would fail. Use a current model id such as claude-haiku-4-5.` })
        continue
      }
      if (info.lifecycle === 'retired') {
        problem({ ...where, message: `Model "${model}" is retired${info.retires_at ? ` since ${info.retires_at.slice(0, 10)}` : ''}. Choose a current model.` })
        continue
      }
      if (info.capabilities?.batch && !info.capabilities.batch.supported) {
        problem({ ...where, message: `Model "${model}" does not support the Message Batches API. Choose another model.` })
        continue
      }
      const thinking = use.thinking && (info.capabilities?.thinking?.types as Record<string, { supported?: boolean } | null> | undefined)?.[use.thinking.type]
      if (use.thinking && thinking && !thinking.supported) {
        problem({
          file,
          line: use.thinking.at.origin.line,
          message: `Model "${model}" does not accept thinking of type "${use.thinking.type}". Use a type it supports (see its capabilities) or another model.`
        })
      }
      // A schema needs structured outputs; a model without them would fail every such row.
      if (use.schema && info.capabilities?.structured_outputs?.supported !== true) {
        problem({
          file,
          line: use.schema.origin.line,
          message: `Model "${model}" does not support structured outputs, which a schema needs. Choose a model that does (see its capabilities), or remove the schema.`
        })
      }
      if (info.max_tokens && use.maxTokens > info.max_tokens) {
        problem({
          file,
          line: use.overLimit?.origin.line,
          message: `max_tokens ${use.maxTokens} is above the limit of ${info.max_tokens} output tokens for ${info.id}. Lower max_tokens.`
        })
      }
    }
    if (info?.lifecycle === 'deprecated') {
      warning({ message: `Model "${model}" is deprecated${info.retires_at ? ` and retires on ${info.retires_at.slice(0, 10)}` : ''}; move to a current model before then.` })
    }
  }
  await checkInputTokens(client, plan, inputLimits, problem, warning, log)
  return true
}

interface FileUse {
  count: number
  first: PlannedRequest
  maxTokens: number
  overLimit?: PlannedRequest
  /** The first thinking type the file's requests use, and where. */
  thinking?: { type: string; at: PlannedRequest }
  /** The first of the file's requests whose reply must fit a schema. */
  schema?: PlannedRequest
}

function byModelAndFile(requests: readonly PlannedRequest[]): Map<string, Map<string, FileUse>> {
  const models = new Map<string, Map<string, FileUse>>()
  const col = columnsOf(requests)
  for (let i = 0; i < requests.length; i++) {
    const model = col.model(i)
    const file = col.file(i)
    const maxTokens = col.maxTokens(i)
    const files = models.get(model) ?? new Map<string, FileUse>()
    models.set(model, files)
    let use = files.get(file)
    if (!use) {
      const r = requests[i]!
      use = { count: 1, first: r, maxTokens, overLimit: r }
      files.set(file, use)
    } else {
      use.count++
      if (maxTokens > use.maxTokens) Object.assign(use, { maxTokens, overLimit: requests[i]! })
    }
    const thinking = use.thinking ? undefined : col.thinking(i)
    if (thinking) use.thinking = { type: thinking, at: requests[i]! }
    if (!use.schema && col.schema(i) !== undefined) use.schema = requests[i]!
  }
  return models
}

export interface Estimate {
  requests: number
  inputTokens: number
  /** The most output the run can produce: every request's max_tokens. */
  maxOutputTokens: number
  /** Upper bound in USD at batch prices; undefined when a model has no known price. */
  batchUsd?: number
  standardUsd?: number
  unpriced: string[]
  /** How input tokens were found, in words for the log and summary. */
  method: string
  /** Prompt caching's part of the estimate (cache input `auto`, shared prefixes found). */
  cache?: CacheEstimate
}

/** Prompt caching in the estimate: one cache write per shared prefix and batch, cache reads for the rest. */
export interface CacheEstimate {
  /** Shared prefixes, counted once per batch that carries them. */
  prefixes: number
  /** Tokens estimated as written to and read from the cache (prefixes known to be long enough). */
  writeTokens: number
  readTokens: number
  /** Change to the standard-price estimate (USD): negative when caching saves. */
  standardUsd: number
  /**
   * The change (USD, standard prices) if every request carrying a prefix missed the cache and wrote it
   * again (hits in a batch are best effort): what max-cost must allow for.
   */
  worstStandardUsd: number
  /** Prefixes whose token count is not known (count_tokens unavailable): priced with no saving. */
  uncounted: number
}

// count_tokens is free but rate limited, so a large run is sampled: this many calls at most.
const SAMPLE = 20
// When count_tokens cannot answer: about 3 bytes of request JSON a token, a deliberately high guess.
const FALLBACK_TOKENS_PER_BYTE = 1 / 3

/**
 * Estimates the run's cost before anything is spent. Input tokens come from count_tokens: exactly
 * for small runs, and for large ones from a sample per model, scaled by each request's size. Output
 * is priced at its ceiling, max_tokens, so the estimate is an upper bound that max-cost can trust.
 */
export async function estimateCost(client: Anthropic | undefined, plan: Plan, prices: PriceOverrides, rawLog: (line: string) => void): Promise<Estimate> {
  const log = (line: string) => rawLog(safeLine(line))
  const { requests } = plan
  // What the input-token check counted already (the sample, and the requests at risk) is not counted twice.
  const exact = new Map(counted.get(plan))
  let ratio = new Map<string, number>()
  let method: string
  const sample = pickSample(requests)
  try {
    if (!client) throw new Error('no API key')
    const missing = sample.filter((i) => !exact.has(i))
    const params = await readParams(
      plan.spoolPath,
      missing.map((i) => requests[i]!)
    )
    for (const [k, i] of missing.entries())
      exact.set(
        i,
        await withRetry('counting tokens', (o) => countTokens(forAttempt(client, o), params[k] as Record<string, unknown>), { log, deadline: Date.now() + COUNT_DEADLINE_MS })
      )
    ratio = tokensPerByte(requests, sample, exact)
    method = sample.length === requests.length ? 'counted with count_tokens' : `count_tokens on a sample of ${sample.length}, scaled by request size`
  } catch (error) {
    ratio.clear()
    for (const i of sample) if (!counted.get(plan)?.has(i)) exact.delete(i)
    method = `approximated at ~3 bytes a token (count_tokens unavailable: ${esc(describeError(error))})`
    log(`Token counting is unavailable (${esc(describeError(error))}); estimating input tokens from request size.`)
  }

  const estimate: Estimate = { requests: requests.length, inputTokens: 0, maxOutputTokens: 0, unpriced: [], method }
  let standard = 0
  const unpriced = new Set<string>()
  const col = columnsOf(requests)
  const inputOf = (i: number) => exact.get(i) ?? Math.ceil(col.bytes(i) * (ratio.get(col.model(i)) ?? FALLBACK_TOKENS_PER_BYTE))
  const priceOf = new Map<string, ModelPrice | undefined>()
  for (let i = 0; i < requests.length; i++) {
    const input = inputOf(i)
    const model = col.model(i)
    const maxTokens = col.maxTokens(i)
    estimate.inputTokens += input
    estimate.maxOutputTokens += maxTokens
    if (!priceOf.has(model)) priceOf.set(model, priceFor(model, prices))
    const price = priceOf.get(model)
    if (price) standard += requestCost(price, input, maxTokens)
    else unpriced.add(model)
  }
  estimate.unpriced = [...unpriced]
  const cache = await estimateCache(client, plan, prices, inputOf, log)
  if (cache) {
    estimate.cache = cache
    standard += cache.standardUsd
  }
  if (unpriced.size === 0) {
    estimate.standardUsd = standard
    estimate.batchUsd = standard * BATCH_DISCOUNT
  }
  return estimate
}

/** Tokens per byte of request JSON, per model, from the sampled requests that were counted. */
function tokensPerByte(requests: readonly PlannedRequest[], sample: readonly number[], exact: ReadonlyMap<number, number>): Map<string, number> {
  const perModel = new Map<string, { tokens: number; bytes: number }>()
  for (const i of sample) {
    const tokens = exact.get(i)
    if (tokens === undefined) continue
    const m = perModel.get(requests[i]!.model) ?? { tokens: 0, bytes: 0 }
    m.tokens += tokens
    m.bytes += requests[i]!.bytes
    perModel.set(requests[i]!.model, m)
  }
  return new Map([...perModel].map(([model, m]) => [model, m.tokens / Math.max(1, m.bytes)]))
}

/** Input tokens counted with count_tokens, per plan: request index → tokens. The check fills it, the estimate reads it. */
const counted = new WeakMap<Plan, Map<number, number>>()

// A token of request JSON is at least this many bytes (a character of text is at least one byte,
// and the JSON around it only adds bytes), so bytes / this is an upper bound on a request's tokens.
const MIN_BYTES_PER_TOKEN = 1
// A request whose upper bound exceeds this share of its model's limit might not fit: it is counted.
const AT_RISK_SHARE = 0.5
// Counting is free but rate limited; past this many requests at risk the rest are estimated.
const MAX_AT_RISK_COUNTS = 200
// After this many failed count_tokens calls in a row, counting is taken to be unavailable.
const MAX_COUNT_FAILURES = 3
// count_tokens only sharpens the estimate: when it is down, the size-based fallback takes over soon.
const COUNT_DEADLINE_MS = 8_000
// An uncounted request is estimated at a typical ~4 bytes a token: a refusal must be likely right.
const TYPICAL_TOKENS_PER_BYTE = 1 / 4

/**
 * Checks every request against its model's `max_input_tokens` before anything is spent (a request
 * over it would only come back errored when the batch ends). Small runs are counted whole; for large
 * ones the estimate's sample is counted, plus every request big enough that it could be over: never
 * one call per request for all of them. A request over the limit is a problem on its file and line.
 */
export async function checkInputTokens(
  client: Anthropic,
  plan: Plan,
  limits: ReadonlyMap<string, number>,
  problem: Report,
  warning: Report,
  log: (line: string) => void
): Promise<void> {
  const { requests } = plan
  const limitOf = (r: PlannedRequest) => limits.get(r.model)
  // Indices only: a million requests are read one at a time, never held as objects.
  const atRisk: number[] = []
  const col = columnsOf(requests)
  for (let i = 0; i < requests.length; i++) {
    const limit = limits.get(col.model(i))
    if (limit !== undefined && col.bytes(i) / MIN_BYTES_PER_TOKEN > AT_RISK_SHARE * limit) atRisk.push(i)
  }
  atRisk.sort((a, b) => col.bytes(b) - col.bytes(a) || a - b)
  const toCount = [...new Set([...atRisk.slice(0, MAX_AT_RISK_COUNTS), ...pickSample(requests)])]

  const tokens = counted.get(plan) ?? new Map<number, number>()
  counted.set(plan, tokens)
  let failures = 0
  let lastError: unknown
  for (const i of toCount) {
    if (tokens.has(i)) continue
    if (failures >= MAX_COUNT_FAILURES) break
    try {
      // One at a time: a request at risk may be tens of megabytes.
      const [params] = await readParams(plan.spoolPath, [requests[i]!])
      tokens.set(i, await withRetry('counting tokens', (o) => countTokens(forAttempt(client, o), params as Record<string, unknown>), { deadline: Date.now() + COUNT_DEADLINE_MS }))
      failures = 0
    } catch (error) {
      // A count that kept failing for its whole deadline means the endpoint is down: stop asking.
      failures = error instanceof RetryDeadlineError ? MAX_COUNT_FAILURES : failures + 1
      lastError = error
    }
  }
  if (atRisk.length)
    log(`${atRisk.length} request(s) are large enough to approach their model's input limit; ${atRisk.filter((i) => tokens.has(i)).length} were counted one by one.`)

  const ratio = tokensPerByte(requests, pickSample(requests), tokens)
  const uncounted: number[] = []
  for (const i of atRisk) {
    const r = requests[i]!
    const limit = limitOf(r)!
    const exact = tokens.get(i)
    const estimate = exact ?? Math.ceil(r.bytes * (ratio.get(r.model) ?? TYPICAL_TOKENS_PER_BYTE))
    if (exact === undefined) uncounted.push(i)
    if (estimate <= limit) continue
    problem({
      file: r.origin.file,
      line: r.origin.line,
      message: `This request is ${exact === undefined ? `~${tokenCount(roughly(estimate))} input tokens (estimated from its size)` : `${tokenCount(exact)} input tokens`}; ${esc(r.model)} accepts ${limit.toLocaleString('en-US')}: shorten it.`
    })
  }
  if (uncounted.length) {
    const why = lastError === undefined ? `more than ${MAX_AT_RISK_COUNTS} are near the limit` : `count_tokens failed: ${esc(describeError(lastError))}`
    warning({
      file: requests[uncounted[0]!]!.origin.file,
      message: `${uncounted.length} large request(s) were checked against the input-token limit by size only (${why}); one that is over will come back errored.`
    })
  }
}

/** Two significant digits: an estimate should not look more exact than it is. */
function roughly(n: number): number {
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, n))) - 1)
  return Math.round(n / unit) * unit
}

/** 7.5M, or 250,003: how a token count reads in a message. */
function tokenCount(n: number): string {
  return n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n.toLocaleString('en-US')
}

function requestCost(price: ModelPrice, input: number, output: number): number {
  const tier = price.longPrompt && input > price.longPrompt.threshold ? price.longPrompt : price
  return (input * tier.input + output * tier.output) / 1_000_000
}

/**
 * Up to SAMPLE request indices, spread evenly over each model's requests. Two passes over the
 * columns (count each model's requests, then take the chosen occurrences), so a million requests
 * cost no list of a million indices.
 */
function pickSample(requests: readonly PlannedRequest[]): number[] {
  if (requests.length <= SAMPLE) return Array.from({ length: requests.length }, (_, i) => i)
  const col = columnsOf(requests)
  const counts = new Map<string, number>()
  for (let i = 0; i < requests.length; i++) counts.set(col.model(i), (counts.get(col.model(i)) ?? 0) + 1)
  const per = Math.max(2, Math.floor(SAMPLE / counts.size))
  // For each model, which of its occurrences (0-based, ascending) are picked, and how far the scan is.
  const wanted = new Map<string, { picks: number[]; next: number; seen: number }>()
  for (const [model, total] of counts) {
    const n = Math.min(per, total)
    wanted.set(model, { picks: Array.from({ length: n }, (_, k) => Math.floor((k * total) / n)), next: 0, seen: 0 })
  }
  const picked: number[] = []
  for (let i = 0; i < requests.length; i++) {
    const w = wanted.get(col.model(i))!
    if (w.picks[w.next] === w.seen++) {
      picked.push(i)
      w.next++
    }
  }
  return picked
}

// ---------------------------------------------------------------------------------------------------
// Prompt caching (plan/cache.ts) in the estimate.

// Distinct shared prefixes counted with count_tokens; past this many, the rest get no saving in the estimate.
const MAX_PREFIX_COUNTS = 20

/**
 * Prompt caching's part of the estimate. Shared prefixes are counted with count_tokens (two calls for
 * the first, one for each other; at most MAX_PREFIX_COUNTS), which also tells the body whether a prefix
 * is long enough for its model (plan.caching.tokens). A prefix known to be at least the model's minimum
 * is priced as one one-hour cache write per batch and cache reads for the rest; one whose length is not
 * known is priced as the worse of cached and not (its bytes bound its tokens), so the total stays an
 * upper bound as long as the cache is hit.
 */
async function estimateCache(
  client: Anthropic | undefined,
  plan: Plan,
  prices: PriceOverrides,
  inputOf: (i: number) => number,
  log: (line: string) => void
): Promise<CacheEstimate | undefined> {
  let groups = cacheGroups(plan)
  if (!groups.length) return undefined
  const tokens = plan.caching!.tokens
  if (client) {
    await countPrefixes(client, plan, groups, tokens, log)
    // Now that lengths are known, a prefix too short for its model is no longer marked.
    groups = cacheGroups(plan)
    if (!groups.length) return undefined
  }
  const result: CacheEstimate = { prefixes: groups.length, writeTokens: 0, readTokens: 0, standardUsd: 0, worstStandardUsd: 0, uncounted: 0 }
  for (const g of groups) {
    const price = priceFor(g.model, prices)
    if (!price) continue
    const tier = price.longPrompt && inputOf(g.first) > price.longPrompt.threshold ? price.longPrompt : price
    const counted = tokens.get(g.prefix.key)
    // Every one of the n a one-hour cache write (2× input) instead of plain input.
    result.worstStandardUsd += (Math.min(counted ?? g.prefix.bytes, inputOf(g.first)) * g.n * (tier.cacheWrite1h - tier.input)) / 1_000_000
    if (counted !== undefined && counted >= minCacheTokens(g.model).high) {
      result.standardUsd += sharedPrefixCost(tier, counted, g.n)
      result.writeTokens += counted
      result.readTokens += counted * (g.n - 1)
    } else {
      // Cached or not: whichever costs more, for a prefix of at most this many tokens.
      result.standardUsd += Math.max(0, sharedPrefixCost(tier, Math.min(counted ?? g.prefix.bytes, inputOf(g.first)), g.n))
      result.uncounted++
    }
  }
  log(
    `Prompt cache: ${result.prefixes} shared prefix(es) get a one-hour cache_control; estimated ${result.writeTokens.toLocaleString('en-US')} tokens written, ${result.readTokens.toLocaleString('en-US')} read` +
      (result.uncounted ? ` (${result.uncounted} not counted, priced with no saving).` : '.')
  )
  return result
}

async function countPrefixes(client: Anthropic, plan: Plan, groups: readonly CacheGroup[], tokens: Map<number, number>, log: (line: string) => void): Promise<void> {
  const firsts = new Map<number, CacheGroup>()
  for (const g of groups) if (!tokens.has(g.prefix.key) && !firsts.has(g.prefix.key)) firsts.set(g.prefix.key, g)
  const baselines = new Map<string, number>()
  const count = (body: Record<string, unknown>) =>
    withRetry('counting prompt-cache prefix tokens', (o) => countTokens(forAttempt(client, o), body), { deadline: Date.now() + COUNT_DEADLINE_MS })
  try {
    for (const g of [...firsts.values()].slice(0, MAX_PREFIX_COUNTS)) {
      const r = plan.requests[g.first]!
      const [params] = await readParams(plan.spoolPath, [r])
      const body = prefixRequest(params as MessageParams, r.cache, g.kind)
      if (!body) continue
      let baseline = baselines.get(r.model)
      if (baseline === undefined) baselines.set(r.model, (baseline = await count(baselineRequest(r.model))))
      tokens.set(g.prefix.key, Math.max(0, (await count(body)) - baseline))
    }
  } catch (error) {
    log(`Could not count the shared prefixes' tokens (${esc(describeError(error))}); the estimate counts no cache saving for them.`)
  }
}
