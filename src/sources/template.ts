/**
 * `{{var}}` placeholders (`{{ var }}` too), filled in one pass: a value that itself contains
 * `{{...}}` is inserted as is, never expanded again.
 *
 * A name starts with a letter, digit or `_` and may contain letters, digits, `_`, `.`, `-` and
 * spaces (CSV headers such as `Product Name`). Anything else between braces (`{{ .Name }}`,
 * `{{#if}}`) is not a placeholder and stays as written.
 */

const PLACEHOLDER = /\{\{\s*([\p{L}\p{N}_](?:[\p{L}\p{N}_ .-]*[\p{L}\p{N}_.-])?)\s*\}\}/gu

/** A piece of template text and where it sits in its file. */
export interface TemplateText {
  text: string
  /** 1-based line of the text's first character. */
  line: number
  /** True when every `\n` in `text` is a line break in the file (so placeholder lines are exact). */
  exactLines: boolean
}

export interface Placeholder {
  name: string
  /** 1-based line in the file. */
  line: number
}

export function placeholders(t: TemplateText): Placeholder[] {
  const found: Placeholder[] = []
  for (const m of t.text.matchAll(PLACEHOLDER)) {
    found.push({ name: m[1]!, line: t.exactLines ? t.line + countNewlines(t.text, m.index) : t.line })
  }
  return found
}

/**
 * Fills every placeholder from `lookup`. Names `lookup` does not know are left as written and
 * added to `missing`.
 */
export function fill(text: string, lookup: (name: string) => string | undefined, missing: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = lookup(name)
    if (value === undefined) {
      missing.add(name)
      return whole
    }
    return value
  })
}

/** How a row value reads inside a prompt: strings as is, null as empty, objects and arrays as JSON. */
export function stringifyValue(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value as number | boolean | bigint | symbol)
}

function countNewlines(text: string, end: number): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++
  return n
}

// The smallest minimum cacheable prompt of any model is 512 tokens, and a token is at least a byte: a
// shorter lead is not worth a cache breakpoint of its own (the system prompt's, if any, covers it).
const MIN_LEAD_BYTES = 512

/**
 * Where a template's fixed leading text ends: in the first message with a placeholder, before that
 * placeholder. Every row shares the text up to there (prompt caching may mark it, plan/cache.ts);
 * undefined when a message starts with a placeholder, none has one, or the text before is short.
 */
export function fixedLead(messages: ReadonlyArray<{ content: TemplateText }>): { message: number; chars: number } | undefined {
  for (const [message, m] of messages.entries()) {
    PLACEHOLDER.lastIndex = 0
    const found = PLACEHOLDER.exec(m.content.text)
    PLACEHOLDER.lastIndex = 0
    if (!found) continue
    const before = [...messages.slice(0, message).map((b) => b.content.text), m.content.text.slice(0, found.index)]
    const bytes = before.reduce((sum, text) => sum + Buffer.byteLength(text), 0)
    return found.index > 0 && bytes >= MIN_LEAD_BYTES ? { message, chars: found.index } : undefined
  }
  return undefined
}
