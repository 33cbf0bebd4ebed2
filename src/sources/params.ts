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

/**
 * What is wrong with a Messages API `messages` list, or undefined when its shape is right: each item
 * an object with role "user" or "assistant" and content that is a non-empty string or a non-empty
 * list of blocks with a "type". The batch would accept anything and fail the row hours later.
 */
export function messagesProblem(messages: unknown, where = 'messages'): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return `"${where}" must be a non-empty list of messages.`
  const shape = '{"role": "user", "content": "..."}'
  for (const [i, m] of messages.entries()) {
    const at = `"${where}[${i}]"`
    if (!isPlainObject(m)) return `${at} must be an object such as ${shape}, not ${preview(m)}.`
    if (m.role !== 'user' && m.role !== 'assistant') return `${at} has role ${preview(m.role)}: use "user" or "assistant" (a system prompt goes in "system").`
    const content = m.content
    if (typeof content === 'string') {
      if (content === '') return `${at} has empty content.`
    } else if (Array.isArray(content)) {
      if (content.length === 0) return `${at} has an empty content list.`
      const bad = content.findIndex((b) => !isPlainObject(b) || typeof b.type !== 'string')
      if (bad !== -1) return `${at}.content[${bad}] must be a content block such as {"type": "text", "text": "..."}, not ${preview(content[bad])}.`
    } else {
      return `${at} needs "content": a string or a list of content blocks, not ${preview(content)}.`
    }
  }
  return undefined
}

/** A short JSON rendering of a value for a message. */
function preview(value: unknown): string {
  if (value === undefined) return 'nothing'
  const json = JSON.stringify(value)
  return json.length > 40 ? `${json.slice(0, 37)}...` : json
}
