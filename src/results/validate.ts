/**
 * Replies checked against their schema (structured output): parsed as JSON and validated with ajv.
 * Constrained decoding makes a mismatch rare, but a reply cut at max_tokens or a refusal does not
 * fit, and nothing that does not fit is written.
 */
import type { ValidateFunction } from 'ajv'
import { compileSchema, type JsonObject } from '../sources/schema.js'

export type Checked = { ok: true; value: unknown } | { ok: false; message: string }

// A reply with many mistakes is summarised by its first few.
const SHOWN_ERRORS = 3

export class ReplyValidator {
  private readonly compiled = new Map<number, ValidateFunction | Error>()

  constructor(private readonly schemas: readonly JsonObject[] = []) {}

  /** Whether `text` is JSON that fits schema `index`, with the value when it is, or why not in words. */
  check(index: number, text: string, stopReason: string | null, maxTokens: number): Checked {
    const validate = this.validator(index)
    if (validate instanceof Error) return { ok: false, message: `its schema cannot be used: ${validate.message}` }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      return { ok: false, message: why(stopReason, maxTokens, `the reply is not JSON (${(error as Error).message})`) }
    }
    if (validate(value)) return { ok: true, value }
    const errors = validate.errors ?? []
    const shown = errors
      .slice(0, SHOWN_ERRORS)
      .map(
        (e) =>
          `${e.instancePath || '(the reply)'} ${e.message ?? 'does not fit'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})` : ''}`
      )
    const more = errors.length > SHOWN_ERRORS ? ` and ${errors.length - SHOWN_ERRORS} more` : ''
    return { ok: false, message: why(stopReason, maxTokens, `the reply does not fit the schema: ${shown.join('; ')}${more}`) }
  }

  private validator(index: number): ValidateFunction | Error {
    let v = this.compiled.get(index)
    if (!v) {
      const schema = this.schemas[index]
      try {
        if (!schema) throw new Error(`no schema ${index} in the plan`)
        v = compileSchema(schema)
      } catch (error) {
        v = error as Error
      }
      this.compiled.set(index, v)
    }
    return v
  }
}

/** A reply stopped early is the likely cause of a mismatch: say so plainly. */
function why(stopReason: string | null, maxTokens: number, detail: string): string {
  if (stopReason === 'max_tokens') return `cut off: raise max_tokens (${maxTokens}); the reply stopped before its JSON was complete, so ${detail}`
  if (stopReason === 'refusal') return `refused: the model declined, so ${detail}`
  return detail
}

/** How a validated reply is written: indented JSON, ending with a line break. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}
