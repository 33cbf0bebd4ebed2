/**
 * What happens to the items of a batch: the synchronous checks at create time (HTTP 400s), the checks the real
 * service only runs when it processes a request (they end up as `errored` rows), and the result rows themselves.
 * Messages are the ones in batch-api.md §3.2 and §4, word for word where the doc gives them.
 */
import { findServedModel, type SimModel } from './simulator-models.js'
import { invalidRequest, isRecord, notFound } from './simulator-http.js'
import { createPrng, estimateInputTokens, generateReply, lastUserText, sha256Hex } from './simulator-text.js'
import { outputConfigProblem, requestedSchema, structuredReply } from './simulator-json.js'
import { cacheControlProblem, type CacheUsage } from './simulator-cache.js'

export interface BatchItem {
  custom_id: string
  params: Record<string, unknown>
}

const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/

// ---------------------------------------------------------------------------------------------------------------
// Create time: the body's shape and the custom_ids. `params` is deliberately NOT looked into here: the real
// service validates it asynchronously and reports problems as errored rows once the whole batch has ended.

export function parseCreateBody(body: unknown, maxRequests: number): BatchItem[] {
  if (!isRecord(body)) throw invalidRequest('Input should be a valid dictionary')
  rejectExtraKeys(body, ['requests'], '')
  const { requests } = body
  if (requests === undefined) throw invalidRequest('requests: Field required')
  if (!Array.isArray(requests)) throw invalidRequest('requests: Input should be a valid list')
  if (requests.length < 1) {
    throw invalidRequest(`requests: List should have at least 1 item after validation, not ${requests.length}`)
  }
  if (requests.length > maxRequests) {
    throw invalidRequest(`requests: List should have at most ${maxRequests} items after validation, not ${requests.length}`)
  }
  const items = requests.map(parseItem)
  rejectDuplicateIds(items)
  return items
}

function parseItem(raw: unknown, index: number): BatchItem {
  const at = `requests.${index}`
  if (!isRecord(raw)) throw invalidRequest(`${at}: Input should be a valid dictionary`)
  const { custom_id: customId, params } = raw
  if (customId === undefined) throw invalidRequest(`${at}.custom_id: Field required`)
  if (typeof customId !== 'string') throw invalidRequest(`${at}.custom_id: Input should be a valid string`)
  if (customId.length < 1) throw invalidRequest(`${at}.custom_id: String should have at least 1 character`)
  if (customId.length > 64) throw invalidRequest(`${at}.custom_id: String should have at most 64 characters`)
  if (!CUSTOM_ID_PATTERN.test(customId)) {
    throw invalidRequest(`${at}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`)
  }
  if (params === undefined) throw invalidRequest(`${at}.params: Field required`)
  if (!isRecord(params)) throw invalidRequest(`${at}.params: Input should be a valid dictionary`)
  rejectExtraKeys(raw, ['custom_id', 'params'], `${at}.`)
  return { custom_id: customId, params }
}

function rejectDuplicateIds(items: readonly BatchItem[]): void {
  const seen = new Set<string>()
  for (const { custom_id: id } of items) {
    if (seen.has(id)) {
      throw invalidRequest(`requests: custom_id's must be unique within a batch. Duplicate custom_id found: ${id}`)
    }
    seen.add(id)
  }
}

function rejectExtraKeys(object: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  const extra = Object.keys(object).find((key) => !allowed.includes(key))
  if (extra !== undefined) throw invalidRequest(`${prefix}${extra}: Extra inputs are not permitted`)
}

// ---------------------------------------------------------------------------------------------------------------
// Processing time: the outcome of one request whose turn has come.

/** The inner error of an errored row; `request_id` is null for validation failures, `workerreq_…` at execution. */
export interface RowError {
  type: 'error'
  error: { details?: { error_visibility: string }; type: string; message: string }
  request_id: string | null
}

export type RowOutcome = { type: 'succeeded'; model: SimModel; cache?: CacheUsage } | { type: 'errored'; error: RowError } | { type: 'canceled' } | { type: 'expired' }

/** Top-level fields of Messages API create params (SDK 1.12.0, including the beta resource's), plus the
 *  sampling parameters that API version 2023-06-01 still accepts. Anything else is "Extra inputs". */
const MESSAGE_PARAMS = new Set([
  'max_tokens',
  'messages',
  'model',
  'billing_policy',
  'cache_control',
  'compaction',
  'container',
  'context_management',
  'diagnostics',
  'fallback_credit_token',
  'fallbacks',
  'inference_geo',
  'mcp_servers',
  'metadata',
  'output_config',
  'output_format',
  'service_tier',
  'speed',
  'stop_sequences',
  'stream',
  'system',
  'temperature',
  'thinking',
  'thread',
  'tool_choice',
  'tools',
  'top_k',
  'top_p',
  'user_profile_id'
])

/** Removed from requests made with API version 2026-10-21 (batch-api.md §3.1, migration guide). */
const SAMPLING_PARAMS = ['temperature', 'top_p', 'top_k']
export const API_VERSION_2026 = '2026-10-21'

export interface ProcessContext {
  models: readonly SimModel[]
  /** The `anthropic-version` the batch was created with: its rules apply to every request in it. */
  version: string
  /** Id for an execution-time failure, `workerreq_…`. */
  workerRequestId: () => string
}

/** Validation failure that becomes an errored row (not an HTTP error). */
class RowInvalid extends Error {
  constructor(
    readonly type: string,
    message: string
  ) {
    super(message)
  }
}

const invalid = (message: string): RowInvalid => new RowInvalid('invalid_request_error', message)

export function processRequest(params: Record<string, unknown>, context: ProcessContext): RowOutcome {
  let model: SimModel
  try {
    model = validateParams(params, context)
  } catch (error) {
    if (!(error instanceof RowInvalid)) throw error
    return erroredRow(error.type, error.message, null, true)
  }
  return simulatedFailure(params, context) ?? { type: 'succeeded', model }
}

function erroredRow(type: string, message: string, requestId: string | null, userFacing: boolean): RowOutcome {
  const details = userFacing ? { details: { error_visibility: 'user_facing' } } : {}
  return { type: 'errored', error: { type: 'error', error: { ...details, type, message }, request_id: requestId } }
}

/**
 * Test triggers in the last user message, standing for failures no preflight can foresee:
 * `SIMULATE_ERROR:<error_type>` → errored row of that type; `SIMULATE_EXPIRE` → expired row.
 */
function simulatedFailure(params: Record<string, unknown>, context: ProcessContext): RowOutcome | null {
  const text = lastUserText(params.messages)
  const error = /SIMULATE_ERROR:([a-z_]+)/.exec(text)
  if (error) return erroredRow(error[1]!, `Simulated ${error[1]}`, context.workerRequestId(), false)
  if (text.includes('SIMULATE_EXPIRE')) return { type: 'expired' }
  return null
}

/** The checks the real service runs when it picks a request up, in a plausible order; returns the model. */
function validateParams(params: Record<string, unknown>, { models, version }: ProcessContext): SimModel {
  const extra = Object.keys(params).find((key) => !MESSAGE_PARAMS.has(key))
  if (extra !== undefined) throw invalid(`${extra}: Extra inputs are not permitted`)
  for (const field of ['max_tokens', 'messages', 'model']) {
    if (params[field] === undefined) throw invalid(`${field}: Field required`)
  }
  const { max_tokens: maxTokens, messages, model: modelName } = params
  if (typeof modelName !== 'string') throw invalid('model: Input should be a valid string')
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) {
    throw invalid('max_tokens: Input should be a valid integer')
  }
  if (!Array.isArray(messages)) throw invalid('messages: Input should be a valid list')
  if (messages.length === 0) throw invalid('messages: List should have at least 1 item after validation, not 0')
  if (params.stream === true) throw invalid('"stream=True" is not supported in the Message Batches API')
  if (maxTokens < 1) throw invalid('max_tokens: must be greater than or equal to 1')
  if (isRecord(params.billing_policy) && params.billing_policy.bill_to === 'user_profile') {
    throw invalid('billing_policy: bill_to "user_profile" is not supported in the Message Batches API')
  }
  if (version === API_VERSION_2026) {
    const sampling = SAMPLING_PARAMS.find((key) => params[key] !== undefined)
    if (sampling) {
      throw invalid(`${sampling}: sampling parameters are not supported in API version ${API_VERSION_2026}`)
    }
  }
  const cacheProblem = cacheControlProblem(params)
  if (cacheProblem) throw invalid(cacheProblem)
  const model = findServedModel(models, modelName)
  if (!model) throw new RowInvalid('not_found_error', `model: ${modelName}`)
  return checkModelLimits(params, model, maxTokens)
}

function checkModelLimits(params: Record<string, unknown>, model: SimModel, maxTokens: number): SimModel {
  if (model.capabilities?.batch.supported === false) {
    throw invalid(`model: ${model.id} is not supported in the Message Batches API`)
  }
  if (model.max_tokens !== null && maxTokens > model.max_tokens) {
    throw invalid(`max_tokens: ${maxTokens} > ${model.max_tokens}, which is the maximum allowed number of output tokens for ${model.id}`)
  }
  const format = outputConfigProblem(params.output_config, model.capabilities?.structured_outputs.supported !== false)
  if (format) throw invalid(format)
  const thinkingType = isRecord(params.thinking) ? params.thinking.type : undefined
  const thinkingTypes = model.capabilities?.thinking.types as Record<string, { supported: boolean }> | undefined
  if (typeof thinkingType === 'string' && thinkingTypes?.[thinkingType]?.supported === false) {
    throw invalid(`"thinking.type.${thinkingType}" is not supported for this model.`)
  }
  return model
}

// ---------------------------------------------------------------------------------------------------------------
// Result rows

/** One JSONL line (with its `\n`) for a request; succeeded messages are generated here, on demand. */
export function resultLine(item: BatchItem, outcome: RowOutcome, messageId: string): string {
  const result = outcome.type === 'succeeded' ? succeededResult(item.params, outcome.model, messageId, outcome.cache) : outcome
  return `${JSON.stringify({ custom_id: item.custom_id, result })}\n`
}

function succeededResult(params: Record<string, unknown>, model: SimModel, messageId: string, cache?: CacheUsage): unknown {
  const schema = requestedSchema(params)
  const seed = { model: model.id, system: params.system, messages: params.messages }
  // Cached tokens (simulator-cache.ts) are part of the prompt but not of input_tokens, as in the real usage.
  const { read, write5m, write1h } = cache ?? { read: 0, write5m: 0, write1h: 0 }
  const reply = generateReply({
    ...seed,
    maxTokens: params.max_tokens as number,
    stopSequences: Array.isArray(params.stop_sequences) ? params.stop_sequences.filter(isString) : [],
    ...(schema ? { text: structuredReply(schema, seed, lastUserText(params.messages)) } : {})
  })
  // Field order and values as in the live capture quoted in batch-api.md §4.
  const message = {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model: model.id,
    content: [{ type: 'text', text: reply.text }],
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence,
    usage: {
      input_tokens: estimateInputTokens(params) - read - write5m - write1h,
      cache_creation_input_tokens: write5m + write1h,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
      output_tokens: reply.outputTokens,
      service_tier: 'batch',
      inference_geo: 'not_available'
    }
  }
  return { type: 'succeeded', message }
}

const isString = (value: unknown): value is string => typeof value === 'string'

/**
 * A deterministic permutation of 0..n-1 seeded by the batch id (Fisher–Yates). Never the identity when n > 1, so
 * a client that wrongly relies on submission order fails every time, not once in a while.
 */
export function shuffledOrder(n: number, seed: string): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i)
  const random = createPrng(sha256Hex(seed))
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  if (n > 1 && order.every((value, index) => value === index)) order.reverse()
  return order
}

// ---------------------------------------------------------------------------------------------------------------
// count_tokens: a synchronous shape-and-model check (it cannot check max_tokens, which it doesn't accept).

/** Fields `POST /v1/messages/count_tokens` accepts (SDK 1.12.0 `MessageCountTokensParams`, plus beta fields). */
const COUNT_TOKENS_PARAMS = new Set([
  'messages',
  'model',
  'system',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'output_format',
  'cache_control',
  'speed',
  'context_management',
  'mcp_servers'
])

export function countTokens(body: unknown, models: readonly SimModel[]): { input_tokens: number } {
  if (!isRecord(body)) throw invalidRequest('Input should be a valid dictionary')
  for (const field of ['messages', 'model']) {
    if (body[field] === undefined) throw invalidRequest(`${field}: Field required`)
  }
  const extra = Object.keys(body).find((key) => !COUNT_TOKENS_PARAMS.has(key))
  if (extra !== undefined) throw invalidRequest(`${extra}: Extra inputs are not permitted`)
  if (typeof body.model !== 'string') throw invalidRequest('model: Input should be a valid string')
  if (!Array.isArray(body.messages)) throw invalidRequest('messages: Input should be a valid list')
  if (!findServedModel(models, body.model)) throw notFound(`model: ${body.model}`)
  // The same counter as usage.input_tokens of succeeded rows, so estimates and bills agree exactly.
  return { input_tokens: estimateInputTokens(body) }
}
