import { APIConnectionError, AuthenticationError, PermissionDeniedError, type Anthropic } from '@anthropic-ai/sdk'
import { describeError, forAttempt } from './anthropic/client.js'
import { lookupModel } from './anthropic/models.js'
import { RetryDeadlineError, withRetry } from './anthropic/retry.js'
import { countTokens } from './anthropic/tokens.js'
import { BATCH_DISCOUNT, priceFor, type ModelPrice, type PriceOverrides } from './cost/prices.js'
import { readParams } from './plan/spool.js'
import type { Plan, PlannedRequest } from './plan/plan.js'
import type { Problem } from './sources/types.js'

type Report = (p: Problem) => void

/**
 * Asks the Models API about every model the plan uses, once each: unknown, retired or batch-less
 * models and `max_tokens` above a model's limit would otherwise surface only as errored rows when
 * the batch ends, hours later (batch-api.md §3.2). Also the first call that proves the key works.
 * Returns false when the API cannot be used at all (key rejected, unreachable).
 */
export async function checkModels(client: Anthropic, plan: Plan, problem: Report, warning: Report, log: (line: string) => void): Promise<boolean> {
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
      problem({ message: `Could not look up model "${model}": ${describeError(error)}` })
      continue
    }
    if (info) log(`${model}: ${info.id}, ${info.lifecycle}, up to ${info.max_tokens ?? '?'} output tokens.`)
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
  return true
}

interface FileUse {
  count: number
  first: PlannedRequest
  maxTokens: number
  overLimit?: PlannedRequest
  /** The first thinking type the file's requests use, and where. */
  thinking?: { type: string; at: PlannedRequest }
}

function byModelAndFile(requests: readonly PlannedRequest[]): Map<string, Map<string, FileUse>> {
  const models = new Map<string, Map<string, FileUse>>()
  for (const r of requests) {
    const files = models.get(r.model) ?? new Map<string, FileUse>()
    models.set(r.model, files)
    let use = files.get(r.origin.file)
    if (!use) {
      use = { count: 1, first: r, maxTokens: r.maxTokens, overLimit: r }
      files.set(r.origin.file, use)
    } else {
      use.count++
      if (r.maxTokens > use.maxTokens) Object.assign(use, { maxTokens: r.maxTokens, overLimit: r })
    }
    if (r.thinking && !use.thinking) use.thinking = { type: r.thinking, at: r }
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
export async function estimateCost(
  client: Anthropic | undefined,
  plan: Plan,
  prices: PriceOverrides,
  log: (line: string) => void
): Promise<Estimate> {
  const { requests } = plan
  const exact = new Map<number, number>()
  const ratio = new Map<string, number>()
  let method: string
  const sample = pickSample(requests)
  try {
    if (!client) throw new Error('no API key')
    const params = await readParams(plan.spoolPath, sample.map((i) => requests[i]!))
    const perModel = new Map<string, { tokens: number; bytes: number }>()
    for (const [k, i] of sample.entries()) {
      const tokens = await withRetry('counting tokens', (o) => countTokens(forAttempt(client, o), params[k] as Record<string, unknown>), { log })
      exact.set(i, tokens)
      const m = perModel.get(requests[i]!.model) ?? { tokens: 0, bytes: 0 }
      m.tokens += tokens
      m.bytes += requests[i]!.bytes
      perModel.set(requests[i]!.model, m)
    }
    for (const [model, m] of perModel) ratio.set(model, m.tokens / Math.max(1, m.bytes))
    method = sample.length === requests.length ? 'counted with count_tokens' : `count_tokens on a sample of ${sample.length}, scaled by request size`
  } catch (error) {
    exact.clear()
    method = `approximated at ~3 bytes a token (count_tokens unavailable: ${describeError(error)})`
    log(`Token counting is unavailable (${describeError(error)}); estimating input tokens from request size.`)
  }

  const estimate: Estimate = { requests: requests.length, inputTokens: 0, maxOutputTokens: 0, unpriced: [], method }
  let standard = 0
  const unpriced = new Set<string>()
  requests.forEach((r, i) => {
    const input = exact.get(i) ?? Math.ceil(r.bytes * (ratio.get(r.model) ?? FALLBACK_TOKENS_PER_BYTE))
    estimate.inputTokens += input
    estimate.maxOutputTokens += r.maxTokens
    const price = priceFor(r.model, prices)
    if (price) standard += requestCost(price, input, r.maxTokens)
    else unpriced.add(r.model)
  })
  estimate.unpriced = [...unpriced]
  if (unpriced.size === 0) {
    estimate.standardUsd = standard
    estimate.batchUsd = standard * BATCH_DISCOUNT
  }
  return estimate
}

function requestCost(price: ModelPrice, input: number, output: number): number {
  const tier = price.longPrompt && input > price.longPrompt.threshold ? price.longPrompt : price
  return (input * tier.input + output * tier.output) / 1_000_000
}

/** Up to SAMPLE request indices, spread evenly over each model's requests. */
function pickSample(requests: readonly PlannedRequest[]): number[] {
  if (requests.length <= SAMPLE) return requests.map((_, i) => i)
  const byModel = new Map<string, number[]>()
  requests.forEach((r, i) => {
    const indices = byModel.get(r.model)
    if (indices) indices.push(i)
    else byModel.set(r.model, [i])
  })
  const per = Math.max(2, Math.floor(SAMPLE / byModel.size))
  const picked: number[] = []
  for (const indices of byModel.values()) {
    const n = Math.min(per, indices.length)
    for (let k = 0; k < n; k++) picked.push(indices[Math.floor((k * indices.length) / n)]!)
  }
  return picked.sort((a, b) => a - b)
}
