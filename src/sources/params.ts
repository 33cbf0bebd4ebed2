/**
 * Request fields that batches or the action's API version refuse, caught before anything is spent.
 */

/** The Messages API version the action sends; it rejects sampling parameters. */
export const API_VERSION = '2026-10-21'

export const SAMPLING_PARAMS = ['temperature', 'top_p', 'top_k'] as const

/** The Message Batches API's rule for custom_id (batch-api.md §3.1). */
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/

/** Why `key` may not be in a request's params, or undefined when it may. */
export function refusedParam(key: string): string | undefined {
  if ((SAMPLING_PARAMS as readonly string[]).includes(key)) {
    return `API version ${API_VERSION} (which this action uses) rejects sampling parameters (${SAMPLING_PARAMS.join(', ')}). Remove "${key}".`
  }
  if (key === 'stream') return 'Batch requests cannot stream. Remove "stream".'
  return undefined
}

/** Front matter keys of their own, which `params` must not set again. */
export const OWN_KEYS: Record<string, string> = {
  model: 'set it with the front matter key "model"',
  max_tokens: 'set it with the front matter key "max_tokens"',
  system: 'set it with the front matter key "system"',
  messages: 'the prompt text after the front matter is the message'
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
