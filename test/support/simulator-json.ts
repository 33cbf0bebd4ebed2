/**
 * Structured output in the simulator: `output_config.format` checked the way the real service does
 * when it picks a request up (a problem is an errored row, since a batch validates params
 * asynchronously, batch-api.md §3.2), and replies generated as JSON that fits the schema.
 *
 * Replies are deterministic: the same seed (model + system + messages) always gives the same JSON, and
 * different prompts pick different enum values, so a data file's values spread over the enum.
 *
 * Test triggers in the last user message, like the simulator's other SIMULATE_* triggers:
 * `SIMULATE_INVALID_JSON` → a reply that is not JSON; `SIMULATE_SCHEMA_MISMATCH` → JSON that breaks the
 * schema (a required property missing, or a wrong type). Both still succeed and are billed, as a real
 * refusal or a cut-off reply would be.
 */
import { createPrng, sha256Hex, stableStringify } from './simulator-text.js'

type Json = Record<string, unknown>

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Keywords structured outputs refuse (platform docs, "JSON Schema limitations"). */
const REFUSED = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'maxItems',
  'uniqueItems',
  'oneOf',
  'not',
  'if',
  'patternProperties'
]

/** Why the real service would refuse this `output_config`, or undefined when it is fine. */
export function outputConfigProblem(config: unknown, structuredOutputs: boolean): string | undefined {
  if (config === undefined) return undefined
  if (!isRecord(config)) return 'output_config: Input should be a valid dictionary'
  const format = config.format
  if (format === undefined || format === null) return undefined
  if (!isRecord(format)) return 'output_config.format: Input should be a valid dictionary'
  if (format.type !== 'json_schema') return `output_config.format.type: Input should be 'json_schema'`
  if (!isRecord(format.schema)) return 'output_config.format.schema: Field required'
  if (!structuredOutputs) return 'output_config.format: structured outputs are not supported for this model'
  const refused = findKeyword(format.schema, REFUSED)
  if (refused) return `output_config.format.schema: keyword '${refused}' is not supported`
  const open = findOpenObject(format.schema)
  if (open) return `output_config.format.schema: For 'object' type, 'additionalProperties' must be explicitly set to false`
  return undefined
}

function findKeyword(node: unknown, keywords: readonly string[]): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = findKeyword(n, keywords)
      if (found) return found
    }
  } else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (keywords.includes(k)) return k
      if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples') continue
      const found = findKeyword(v, keywords)
      if (found) return found
    }
  }
  return undefined
}

function findOpenObject(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(findOpenObject)
  if (!isRecord(node)) return false
  if ((node.type === 'object' || isRecord(node.properties)) && node.additionalProperties !== false) return true
  return Object.entries(node).some(([k, v]) => k !== 'enum' && k !== 'const' && k !== 'default' && findOpenObject(v))
}

/** The schema a request's params ask for, if any. */
export function requestedSchema(params: Json): Json | undefined {
  const config = params.output_config
  if (!isRecord(config) || !isRecord(config.format) || config.format.type !== 'json_schema') return undefined
  return isRecord(config.format.schema) ? config.format.schema : undefined
}

/** The full reply text for a structured-output request, before any cut at max_tokens. */
export function structuredReply(schema: Json, seedInput: { model: string; system?: unknown; messages: unknown }, prompt: string): string {
  const random = createPrng(sha256Hex(stableStringify({ ...seedInput, system: seedInput.system ?? null, schema })))
  if (prompt.includes('SIMULATE_INVALID_JSON')) return 'Sorry, here is the answer: {"category": '
  const value = generate(schema, schema, random, 0)
  if (prompt.includes('SIMULATE_SCHEMA_MISMATCH')) return JSON.stringify(mismatch(schema, value), null, 0)
  return JSON.stringify(value)
}

/** A value that breaks the schema: a required property dropped, or else a value of the wrong type. */
function mismatch(schema: Json, value: unknown): unknown {
  if (isRecord(value) && Array.isArray(schema.required) && schema.required.length) {
    const copy = { ...value }
    delete copy[schema.required[0] as string]
    return copy
  }
  return typeof value === 'number' ? 'not a number' : 12345
}

const WORDS = ['alpha', 'harbor', 'lantern', 'meadow', 'copper', 'signal', 'orchid', 'summit', 'quartz', 'willow']
const FORMATS: Record<string, (r: () => number) => string> = {
  'date-time': (r) => new Date(Date.UTC(2026, Math.floor(r() * 12), 1 + Math.floor(r() * 28), 9, 30)).toISOString(),
  date: (r) => new Date(Date.UTC(2026, Math.floor(r() * 12), 1 + Math.floor(r() * 28))).toISOString().slice(0, 10),
  time: () => '09:30:00Z',
  duration: () => 'PT1H30M',
  email: (r) => `${pick(WORDS, r)}@example.com`,
  hostname: (r) => `${pick(WORDS, r)}.example.com`,
  uri: (r) => `https://example.com/${pick(WORDS, r)}`,
  ipv4: (r) => `192.0.2.${1 + Math.floor(r() * 250)}`,
  ipv6: () => '2001:db8::1',
  uuid: (r) => sha256Hex(String(r())).replace(/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*$/, '$1-$2-4$3-8$4-$5')
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!
}

/** A value that fits `node`: every property (required or not) filled, enums chosen by the seed. */
function generate(node: unknown, root: Json, random: () => number, depth: number): unknown {
  if (!isRecord(node) || depth > 12) return null
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#')) {
    let target: unknown = root
    for (const key of node.$ref.slice(2).split('/').filter(Boolean)) target = isRecord(target) ? target[key] : undefined
    return generate(target, root, random, depth + 1)
  }
  if ('const' in node) return node.const
  if (Array.isArray(node.enum)) return pick(node.enum, random)
  if (Array.isArray(node.anyOf) && node.anyOf.length) return generate(pick(node.anyOf, random), root, random, depth + 1)
  if (Array.isArray(node.allOf) && node.allOf.length) {
    const merged: Json = {}
    for (const part of node.allOf) {
      const v = generate(part, root, random, depth + 1)
      if (isRecord(v)) Object.assign(merged, v)
    }
    return merged
  }
  const type = Array.isArray(node.type) ? (node.type.find((t) => t !== 'null') ?? 'null') : (node.type ?? (isRecord(node.properties) ? 'object' : 'string'))
  switch (type) {
    case 'object': {
      const out: Json = {}
      for (const [key, sub] of Object.entries(isRecord(node.properties) ? node.properties : {})) out[key] = generate(sub, root, random, depth + 1)
      return out
    }
    case 'array': {
      const n = (node.minItems === 1 ? 1 : 0) + 1 + Math.floor(random() * 2)
      return Array.from({ length: n }, () => generate(node.items, root, random, depth + 1))
    }
    case 'integer':
      return Math.floor(random() * 100)
    case 'number':
      return Math.round(random() * 10_000) / 100
    case 'boolean':
      return random() < 0.5
    case 'null':
      return null
    default: {
      const format = typeof node.format === 'string' ? FORMATS[node.format] : undefined
      return format ? format(random) : `${pick(WORDS, random)} ${pick(WORDS, random)}`
    }
  }
}
