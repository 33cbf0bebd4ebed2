import { Anthropic, APIConnectionError, APIError } from '@anthropic-ai/sdk'

export type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches'
export type { ModelInfo } from '@anthropic-ai/sdk/resources/models'

/**
 * The one place the SDK client is made. The key is always passed explicitly (the SDK would otherwise
 * go looking for profiles and other environment credentials), and only idempotent calls get the
 * SDK's automatic retries: create is handled in create.ts.
 */
export function createClient(options: { apiKey: string; baseURL?: string }): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    authToken: null,
    baseURL: options.baseURL ?? null,
    maxRetries: 3,
    timeout: 120_000
  })
}

/** An error message fit for a log: the API's own words, its type and request id, never headers. */
export function describeError(error: unknown): string {
  if (error instanceof APIConnectionError) return `could not reach the API (${error.message})`
  if (error instanceof APIError) {
    const body = error.error as { error?: { type?: string; message?: string } } | undefined
    const type = body?.error?.type ?? error.type ?? `HTTP ${error.status}`
    const message = body?.error?.message ?? error.message
    return `${error.status ?? ''} ${type}: ${message}${error.requestID ? ` (request id ${error.requestID})` : ''}`.trim()
  }
  return error instanceof Error ? error.message : String(error)
}
