import { Anthropic, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk'

export type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches'
export type { ModelInfo } from '@anthropic-ai/sdk/resources/models'

/** The longest any one call may go unanswered when its caller gives no timeout of its own. */
export const CALL_TIMEOUT_MS = 60_000

/**
 * The one place the SDK client is made. The key is always passed explicitly (the SDK would otherwise
 * go looking for profiles and other environment credentials). Every call has a timeout. Calls made
 * through withRetry (retry.ts) pass `maxRetries: 0` and are retried there, within a deadline; the
 * client's own few retries are only for calls not yet wrapped. Create is handled in create.ts.
 */
export function createClient(options: { apiKey: string; baseURL?: string }): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    authToken: null,
    baseURL: options.baseURL ?? null,
    maxRetries: 2,
    timeout: CALL_TIMEOUT_MS
  })
}

/**
 * The client as one attempt of a retried call should use it (see withRetry in retry.ts): with that
 * attempt's timeout and abort signal, and no retries of its own. For calls made through helpers that
 * take a client rather than request options (lookupModel, countTokens).
 */
export function forAttempt(client: Anthropic, attempt: { signal: AbortSignal; timeout: number }): Anthropic {
  // The SDK's types leave signal out of client-level fetchOptions, but it links whatever signal the
  // request init carries to its own abort, as it does a per-request one (client.js fetchWithTimeout).
  const fetchOptions = { signal: attempt.signal } as unknown as NonNullable<ConstructorParameters<typeof Anthropic>[0]>['fetchOptions']
  return client.withOptions({ maxRetries: 0, timeout: attempt.timeout, fetchOptions })
}

const MAX_TEXT = 200

/**
 * An error in plain words, fit for a log: what went wrong, the API's own message, its type and
 * request id. Never headers, never the key; bodies that are not the API's JSON (an HTML error page)
 * are cut short.
 */
export function describeError(error: unknown): string {
  return redact(describe(error))
}

function describe(error: unknown): string {
  if (error instanceof APIConnectionTimeoutError) return 'the API did not answer in time (the request timed out)'
  if (error instanceof APIUserAbortError) return 'the request was abandoned because its time ran out'
  if (error instanceof APIConnectionError) {
    const cause = isErrorLike(error.cause) ? causeText(error.cause) : ''
    return `could not reach the API${cause ? ` (${cause})` : ''}`
  }
  if (error instanceof APIError) {
    const body = error.error as { error?: { type?: string; message?: string } } | undefined
    const type = body?.error?.type ?? error.type ?? undefined
    const message = body?.error?.message ?? stripStatus(error.message, statusOf(error))
    const what = `HTTP ${error.status ?? '?'}${type ? ` ${type}` : ''}`
    return `${what}: ${short(message) || 'no message'}${error.requestID ? ` (request id ${error.requestID})` : ''}`
  }
  if (!isErrorLike(error)) return short(String(error))
  if (error.name === 'SyntaxError') return `the API's answer was not valid JSON (${short(error.message)})`
  // retry.ts's CallTimeoutError, named rather than imported: retry.ts imports this module.
  if (error.name === 'CallTimeoutError') return `the API ${error.message}`
  const cause = isErrorLike(error.cause) ? ` (${causeText(error.cause)})` : ''
  if (error.name === 'TypeError' && error.message === 'terminated') return `the connection was dropped before the answer was complete${cause}`
  if (error.name === 'TypeError' && error.message === 'fetch failed') return `could not reach the API${cause}`
  // Errors of this action's own say what to do; only a runaway message is cut.
  return error.message.length > 1000 ? `${error.message.slice(0, 1000)}…` : error.message
}

/** An Error, from this realm or another (undici's errors can come from Node's own in tests). */
export function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as Error).message === 'string' && typeof (value as Error).name === 'string')
}

function causeText(cause: Error): string {
  const code = (cause as { code?: unknown }).code
  return short(typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message)
}

/** The SDK's message for a status error starts with the status: it is said once already. */
function stripStatus(message: string, status: number | undefined): string {
  return status !== undefined && message.startsWith(`${status} `) ? message.slice(String(status).length + 1) : message
}

function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat
}

// The SDK puts no key in its messages, but an echoing proxy or error page might.
function redact(text: string): string {
  return text.replace(/sk-ant-[A-Za-z0-9_-]+/g, 'sk-ant-…')
}

/**
 * The SDK's error fields, typed here: its declarations lean on the fetch `Headers` global, which some
 * type-checkers (typescript-eslint's TypeScript 6) resolve to `any`, and an unchecked `any` here
 * would let a typo in a header name through.
 */
export function statusOf(error: { readonly status?: unknown; readonly headers?: unknown }): number | undefined {
  return typeof error.status === 'number' ? error.status : undefined
}

export function headerOf(error: { readonly status?: unknown; readonly headers?: unknown }, name: string): string | null | undefined {
  const headers = error.headers as { get?: (name: string) => string | null } | undefined
  return typeof headers?.get === 'function' ? headers.get(name) : undefined
}
