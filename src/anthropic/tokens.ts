import type { Anthropic } from '@anthropic-ai/sdk'
import type { MessageCountTokensParams } from '@anthropic-ai/sdk/resources/messages/messages'

// count_tokens takes the prompt-shaping subset of a Messages request (batch-api.md §7); anything
// else, such as max_tokens or metadata, it refuses.
const COUNTED = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'cache_control', 'speed']

/** Input tokens of one request, as the API counts them. Free, but rate limited: callers sample. */
export async function countTokens(client: Anthropic, params: Record<string, unknown>): Promise<number> {
  const body = Object.fromEntries(Object.entries(params).filter(([key]) => COUNTED.includes(key)))
  const result = await client.messages.countTokens(body as unknown as MessageCountTokensParams, { maxRetries: 1 })
  return result.input_tokens
}
