/**
 * A parsed prompt file (markdown or `.prompt.yml`), before any `{{var}}` is filled: what the
 * Messages API request will be, with file lines kept for error messages.
 */
import type { MessageParams } from './types.js'
import { fill, placeholders, type TemplateText } from './template.js'
import { withOutputFormat, type Schema } from './schema.js'

export interface PromptSpec {
  file: string
  model: string
  maxTokens: number
  /**
   * System texts from the file, joined with a blank line. When there are none the `system-prompt`
   * default applies (and is never templated).
   */
  system: TemplateText[]
  messages: Array<{ role: 'user' | 'assistant'; content: TemplateText }>
  /** Further request fields, passed through as is (`params` front matter, `stop_sequences`). */
  extra: Record<string, unknown>
  /** The line a request from this file is said to come from (body start, first user message). */
  line: number
  /** The JSON Schema replies must fit (structured output), once read and checked (sources/schema.ts). */
  schema?: Schema
  /** A front matter `schema` naming a file, relative to the prompt file: read by `resolveSchema`. */
  schemaFile?: { path: string; line: number }
}

/** Every placeholder name in the prompt with the line of its first use. */
export function variablesOf(spec: PromptSpec): Map<string, number> {
  const vars = new Map<string, number>()
  const texts = [...spec.system, ...spec.messages.map((m) => m.content)]
  for (const t of texts) {
    for (const p of placeholders(t)) if (!vars.has(p.name)) vars.set(p.name, p.line)
  }
  return vars
}

export interface Rendered {
  params: MessageParams
  /** Placeholder names `lookup` did not know (left in the text). */
  missing: Set<string>
  /** True when a user message is empty once filled. */
  empty: boolean
}

/**
 * The request body. With `lookup`, placeholders are filled; without it the text is sent as written.
 * Message and system texts lose trailing whitespace (the API refuses an assistant turn ending in it).
 */
export function render(spec: PromptSpec, defaultSystem: string | undefined, lookup?: (name: string) => string | undefined): Rendered {
  const missing = new Set<string>()
  const text = (t: TemplateText): string => (lookup ? fill(t.text, lookup, missing) : t.text).trimEnd()
  const system = spec.system.length ? spec.system.map(text).join('\n\n') : defaultSystem
  let empty = false
  const messages = spec.messages.map((m) => {
    const content = text(m.content)
    if (m.role === 'user' && content.trim() === '') empty = true
    return { role: m.role, content }
  })
  const params: MessageParams = {
    model: spec.model,
    max_tokens: spec.maxTokens,
    ...(system ? { system } : {}),
    messages,
    ...structuredClone(spec.extra)
  }
  if (spec.schema) withOutputFormat(params, spec.schema.value)
  return { params, missing, empty }
}
