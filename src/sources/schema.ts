/**
 * JSON Schemas for structured output, read and checked before anything is spent.
 *
 * A schema comes from a front matter `schema` (a YAML mapping, or the path of a `.json` file next to
 * the prompt), a `.prompt.yml`'s `jsonSchema`, or the `schema-file` input. It is sent as
 * `output_config.format` ({type: "json_schema", schema}) and every reply is validated against it
 * (results/validate.ts).
 *
 * Two checks, each reported on the schema's own file and line: the subset of JSON Schema that
 * structured outputs accept (platform.claude.com/docs/en/build-with-claude/structured-outputs,
 * "JSON Schema limitations": the API answers anything else with a 400, which in a batch is an
 * errored row hours later), then a compile with ajv, which catches a schema that is not valid JSON
 * Schema at all.
 */
import path from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { MessageParams, SourceContext } from './types.js'
import type { PromptSpec } from './prompt.js'
import { isPlainObject } from './params.js'
import { describeType, didYouMean, isMap, isScalar, isSeq, YamlDoc, type Node } from './yaml-doc.js'
import { openWorkspace, resolveInputFile } from '../paths/workspace.js'
import { readUtf8File } from './text.js'

export type JsonObject = Record<string, unknown>

/** A checked schema and where it was written, so later problems (a column clash) point at it. */
export interface Schema {
  value: JsonObject
  file: string
  line: number
}

/** String formats structured outputs support. */
export const SUPPORTED_FORMATS = ['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid'] as const

const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']

/** Keywords structured outputs accept. Annotations (title, description, …) change nothing and pass. */
const SUPPORTED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'enum',
  'const',
  'anyOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'default',
  'format',
  'pattern',
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly'
])

/** Keywords of JSON Schema the API refuses, each with what to do instead. */
const UNSUPPORTED: Record<string, string> = {
  minimum: 'numerical constraints are not supported',
  maximum: 'numerical constraints are not supported',
  exclusiveMinimum: 'numerical constraints are not supported',
  exclusiveMaximum: 'numerical constraints are not supported',
  multipleOf: 'numerical constraints are not supported',
  minLength: 'string length constraints are not supported',
  maxLength: 'string length constraints are not supported',
  maxItems: 'array constraints other than minItems 0 or 1 are not supported',
  uniqueItems: 'array constraints other than minItems 0 or 1 are not supported',
  contains: 'array constraints other than minItems 0 or 1 are not supported',
  prefixItems: 'tuples are not supported',
  oneOf: 'use anyOf instead',
  not: 'it is not supported',
  if: 'conditional schemas are not supported',
  then: 'conditional schemas are not supported',
  else: 'conditional schemas are not supported',
  patternProperties: 'only listed properties are supported',
  propertyNames: 'only listed properties are supported',
  minProperties: 'only listed properties are supported',
  maxProperties: 'only listed properties are supported',
  dependentRequired: 'it is not supported',
  dependentSchemas: 'it is not supported',
  dependencies: 'it is not supported',
  unevaluatedProperties: 'use additionalProperties: false',
  unevaluatedItems: 'it is not supported'
}

const ADVICE = ' Describe the constraint in the property\'s "description" instead, and remove the keyword.'

type Segment = string | number

export interface SchemaIssue {
  /** Where in the schema: keys and list indexes from its root. */
  at: Segment[]
  message: string
}

/**
 * What structured outputs would refuse in `schema`, or [] when it fits. Objects without
 * `additionalProperties` get `false` added (as the SDKs do), so `schema` may be changed.
 */
export function unsupportedFeatures(schema: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = []
  if (!isPlainObject(schema)) return [{ at: [], message: `A schema must be a mapping (e.g. "type: object"), not ${describeType(schema)}.` }]
  walk(schema, [], issues)
  const cycle = recursion(schema)
  if (cycle) issues.push({ at: cycle.at, message: `Recursive schemas are not supported: ${cycle.ref} refers back to itself. Spell the nesting out to a fixed depth.` })
  return issues
}

function walk(node: JsonObject, at: Segment[], issues: SchemaIssue[]): void {
  const bad = (key: Segment, message: string) => issues.push({ at: [...at, key], message })
  for (const [key, value] of Object.entries(node)) {
    if (Object.hasOwn(UNSUPPORTED, key)) {
      bad(key, `Structured outputs do not support "${key}": ${UNSUPPORTED[key]}.${ADVICE}`)
      continue
    }
    if (!SUPPORTED.has(key)) {
      bad(key, `Unknown schema keyword "${key}".${didYouMean(key, [...SUPPORTED]) || closest(key)} Structured outputs accept: ${[...SUPPORTED].slice(0, 16).join(', ')}.`)
      continue
    }
    switch (key) {
      case 'type': {
        const types: unknown[] = Array.isArray(value) ? value : [value]
        const wrong = types.find((t) => typeof t !== 'string' || !TYPES.includes(t))
        if (wrong !== undefined || types.length === 0) bad(key, `"type" must be one of ${TYPES.join(', ')} (or a list of them), not ${JSON.stringify(wrong ?? value)}.`)
        break
      }
      case 'additionalProperties':
        if (value !== false) bad(key, `"additionalProperties" must be false: structured outputs only produce the properties listed.`)
        break
      case 'minItems':
        if (value !== 0 && value !== 1) bad(key, `"minItems" may only be 0 or 1 with structured outputs, not ${JSON.stringify(value)}.${ADVICE}`)
        break
      case 'enum':
        if (!Array.isArray(value) || value.length === 0) bad(key, '"enum" must be a non-empty list of values.')
        else if (value.some((v) => v !== null && typeof v === 'object')) bad(key, '"enum" may only hold strings, numbers, booleans or null, not lists or mappings.')
        break
      case 'format':
        if (typeof value !== 'string' || !(SUPPORTED_FORMATS as readonly string[]).includes(value)) {
          bad(key, `Format ${JSON.stringify(value)} is not supported. Use one of ${SUPPORTED_FORMATS.join(', ')}, or remove "format".`)
        }
        break
      case 'pattern': {
        const why = typeof value !== 'string' ? 'it must be text' : unsupportedRegex(value)
        if (why) bad(key, `This "pattern" cannot be used with structured outputs: ${why}.`)
        break
      }
      case '$ref':
        if (typeof value !== 'string' || !value.startsWith('#')) bad(key, `Only references within the schema ("#/$defs/name") are supported, not ${JSON.stringify(value)}.`)
        break
      case 'required':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) bad(key, '"required" must be a list of property names.')
        break
      case 'properties':
      case '$defs':
      case 'definitions':
        if (!isPlainObject(value)) bad(key, `"${key}" must be a mapping of names to schemas.`)
        else
          for (const [name, sub] of Object.entries(value)) {
            // ajv skips a property of this name (against prototype pollution), so no reply could be checked.
            if (name === '__proto__' && key === 'properties')
              issues.push({ at: [...at, key, name], message: 'A property named "__proto__" cannot be checked or written as a column: rename it.' })
            else if (sub === true || sub === false) bad(key, `"${name}" must be a schema (a mapping), not ${sub}.`)
            else child(sub, [...at, key, name], issues)
          }
        break
      case 'items':
        child(value, [...at, key], issues)
        break
      case 'anyOf':
      case 'allOf':
        if (!Array.isArray(value) || value.length === 0) bad(key, `"${key}" must be a non-empty list of schemas.`)
        else
          value.forEach((sub, i) => {
            if (key === 'allOf' && isPlainObject(sub) && '$ref' in sub) bad(key, '"allOf" with a "$ref" inside is not supported: copy the referenced properties in.')
            else child(sub, [...at, key, i], issues)
          })
        break
    }
  }
  // The API needs every object closed; the SDKs add this, and so does the action.
  if ((node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object')) || isPlainObject(node.properties)) && !('additionalProperties' in node)) {
    node.additionalProperties = false
  }
}

/** ` Did you mean "properties"?` for a keyword one or two letters off, else ''. */
function closest(key: string): string {
  for (const k of SUPPORTED) if (Math.abs(k.length - key.length) <= 2 && distance(k, key) <= 2) return ` Did you mean "${k}"?`
  return ''
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

function child(value: unknown, at: Segment[], issues: SchemaIssue[]): void {
  if (isPlainObject(value)) walk(value, at, issues)
  else issues.push({ at, message: `This must be a schema (a mapping such as "type: string"), not ${describeType(value)}.` })
}

function unsupportedRegex(pattern: string): string | undefined {
  if (/\\[1-9]/.test(pattern)) return 'backreferences (\\1) are not supported'
  if (/\(\?<?[=!]/.test(pattern)) return 'lookahead and lookbehind are not supported'
  if (/\\[bB]/.test(pattern)) return 'word boundaries (\\b) are not supported'
  try {
    new RegExp(pattern, 'u')
  } catch (error) {
    return `it is not a valid regular expression (${(error as Error).message})`
  }
  return undefined
}

/**
 * The first local $ref that leads back into itself, if any: through a definition (`#/$defs/node`), the
 * root (`#`) or any other place (`#/properties/a`). Each place a $ref points to is a node; it leads to
 * every place a $ref inside it points to (not counting the definitions it holds, which are only
 * containers), and a loop among them is a recursive schema.
 */
function recursion(schema: JsonObject): { ref: string; at: Segment[] } | undefined {
  const refs: Array<{ ref: string; at: Segment[]; from: string[] }> = []
  const collect = (node: unknown, at: Segment[], from: string[]): void => {
    if (Array.isArray(node)) node.forEach((n, i) => collect(n, [...at, i], [...from, String(i)]))
    else if (isPlainObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#')) refs.push({ ref: v, at: [...at, k], from })
        else if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') collect(v, [...at, k], [...from, escapePointer(k)])
      }
    }
  }
  collect(schema, [], [])
  const pointer = (segments: readonly string[]) => ['#', ...segments].join('/')
  // Every definition and every target is a node, so a loop among unused definitions is found too.
  const nodes = new Set<string>(['#'])
  for (const key of ['$defs', 'definitions']) {
    const d = schema[key]
    if (isPlainObject(d)) for (const name of Object.keys(d)) nodes.add(pointer([key, escapePointer(name)]))
  }
  for (const r of refs) nodes.add(normalizePointer(r.ref))
  const inside = (place: string, r: (typeof refs)[number]): boolean => {
    const own = place === '#' ? [] : place.slice(2).split('/')
    if (own.length > r.from.length || own.some((s, i) => s !== r.from[i])) return false
    // A definitions keyword below the place (not a property of that name) holds containers only.
    return !r.from.some((s, i) => i >= own.length && i < r.from.length - 1 && (s === '$defs' || s === 'definitions') && r.from[i - 1] !== 'properties')
  }
  const state = new Map<string, 1 | 2>()
  const visit = (place: string): { ref: string; at: Segment[] } | undefined => {
    state.set(place, 1)
    for (const r of refs) {
      if (!inside(place, r)) continue
      const target = normalizePointer(r.ref)
      if (state.get(target) === 1) return r
      if (state.get(target) === undefined) {
        const found = visit(target)
        if (found) return found
      }
    }
    state.set(place, 2)
    return undefined
  }
  for (const place of nodes) {
    if (state.get(place) !== undefined) continue
    const found = visit(place)
    if (found) return { ref: found.ref, at: found.at }
  }
  return undefined
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** `#/a/b` as written, with `#/` (the root) read as `#`. */
function normalizePointer(ref: string): string {
  return ref === '#/' ? '#' : ref.replace(/\/$/, '')
}

const FORMATS: Record<string, true> = Object.fromEntries(SUPPORTED_FORMATS.map((f) => [f, true] as const))

/**
 * Compiles a schema for validating replies: draft 2020-12 when its `$schema` says so, draft-07
 * otherwise. Formats are accepted but not checked (the API's constrained decoding enforces them).
 * Throws with ajv's message when the schema is not valid JSON Schema.
 */
export function compileSchema(schema: JsonObject): ValidateFunction {
  // A new Ajv and a compile take ~7 ms: a schema shared by 100,000 prompts is compiled once, not per prompt.
  const key = JSON.stringify(schema)
  let compiled = compiledSchemas.get(key)
  if (!compiled) {
    try {
      compiled = compileFresh(schema)
    } catch (error) {
      compiled = error as Error
    }
    if (compiledSchemas.size >= MAX_COMPILED) compiledSchemas.clear()
    compiledSchemas.set(key, compiled)
  }
  if (compiled instanceof Error) throw compiled
  return compiled
}

// Distinct schemas kept compiled; past this many (each prompt its own schema) all are dropped and compiled again when seen.
const MAX_COMPILED = 256
const compiledSchemas = new Map<string, ValidateFunction | Error>()

function compileFresh(schema: JsonObject): ValidateFunction {
  // ownProperties: a reply's own fields only, so a property named "constructor" or "toString" is not found on every object.
  const options = { allErrors: true, ownProperties: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false, formats: FORMATS } as const
  const ajv = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12') ? new Ajv2020(options) : new Ajv(options)
  return ajv.compile(schema)
}

/**
 * Checks a schema and reports each problem on `file` at the line `lineOf` gives for its place in the
 * schema. Returns the schema to send (objects closed with additionalProperties: false), or undefined.
 */
export function checkSchema(value: unknown, file: string, lineOf: (at: Segment[]) => number, ctx: SourceContext): JsonObject | undefined {
  const issues = unsupportedFeatures(value)
  for (const issue of issues) ctx.problem({ file, line: lineOf(issue.at), message: `Schema${where(issue.at)}: ${issue.message}` })
  if (issues.length) return undefined
  const schema = value as JsonObject
  try {
    compileSchema(schema)
  } catch (error) {
    ctx.problem({ file, line: lineOf([]), message: `This is not a valid JSON Schema: ${(error as Error).message}.` })
    return undefined
  }
  return schema
}

function where(at: Segment[]): string {
  return at.length ? ` at ${at.map((s) => (typeof s === 'number' ? `[${s}]` : `/${s}`)).join('')}` : ''
}

/** The file line of a place in a YAML (or JSON) document: the line of its key. */
export function lineIn(yaml: YamlDoc, root: Node | null, at: Segment[], fallback: number): number {
  let node: Node | null | undefined = root
  let line = yaml.lineOf(root, fallback)
  for (const segment of at) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(segment))
      if (!pair) break
      line = yaml.lineOf(pair.key as Node, line)
      node = pair.value as Node | null
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | null
      line = yaml.lineOf(node, line)
    } else break
  }
  return line
}

/** A schema written inline as a YAML mapping (front matter `schema`, `.prompt.yml` `jsonSchema`). */
export function inlineSchema(yaml: YamlDoc, node: Node | null, line: number, ctx: SourceContext): Schema | undefined {
  const js = yaml.toJS(node)
  if (js.error !== undefined) {
    ctx.problem({ file: yaml.file, line, message: `Schema: ${js.error}` })
    return undefined
  }
  const value = checkSchema(js.value, yaml.file, (at) => lineIn(yaml, node, at, line), ctx)
  return value && { value, file: yaml.file, line }
}

/**
 * Reads a schema file: `ref` is relative to the prompt file `from` (or, with `from` undefined, to the
 * workspace, for the schema-file input), and must be inside the workspace once links are followed.
 * JSON (or YAML) whose problems are reported on the schema file's own lines.
 */
export async function loadSchemaFile(ref: string, from: { file: string; line: number } | undefined, ctx: SourceContext, read?: Set<string>): Promise<Schema | undefined> {
  const relative = from ? path.posix.join(path.posix.dirname(from.file), ref) : ref
  const found = await resolveInputFile(await openWorkspace(ctx.workspace), from ? 'schema' : 'schema-file', relative)
  if ('error' in found) {
    ctx.problem({ file: from?.file ?? found.error.file, line: from?.line, message: found.error.message.replace(/^Input schema:/, 'Front matter key "schema":') })
    return undefined
  }
  read?.add(found.file)
  let text: string
  try {
    const got = await readUtf8File(found.abs, found.file)
    if (got.error !== undefined) {
      ctx.problem({ file: found.file, message: got.error })
      return undefined
    }
    text = got.text
  } catch (error) {
    ctx.problem({ file: found.file, message: `Cannot read the schema file: ${(error as Error).message}` })
    return undefined
  }
  if (found.file.toLowerCase().endsWith('.json')) {
    try {
      JSON.parse(text)
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message)
      const line = at ? text.slice(0, Number(at[1])).split('\n').length : 1
      ctx.problem({ file: found.file, line, message: `The schema file is not valid JSON: ${(error as Error).message}.` })
      return undefined
    }
  }
  // JSON is YAML too: parsed as YAML, every place in the schema keeps its line.
  const yaml = YamlDoc.parse(text, found.file, 1, ctx)
  if (!yaml) return undefined
  return inlineSchema(yaml, yaml.contents, 1, ctx)
}

/** `params` asking for JSON that fits `schema`: `output_config.format`, beside any other output_config field. */
export function withOutputFormat(params: MessageParams, schema: JsonObject): MessageParams {
  const config = isPlainObject(params.output_config) ? params.output_config : {}
  params.output_config = { ...config, format: { type: 'json_schema', schema: structuredClone(schema) } }
  return params
}

/** The schema a request's params ask its reply to fit, if any. */
export function schemaOf(params: MessageParams): JsonObject | undefined {
  const config = params.output_config
  if (!isPlainObject(config) || !isPlainObject(config.format) || config.format.type !== 'json_schema') return undefined
  return isPlainObject(config.format.schema) ? config.format.schema : undefined
}

/** The top-level property names in schema order: a data file's result columns. Undefined when it has none. */
export function topLevelProperties(schema: JsonObject): string[] | undefined {
  const props = schema.properties
  return isPlainObject(props) && Object.keys(props).length ? Object.keys(props) : undefined
}

/**
 * Settles a parsed prompt's schema: reads the file its front matter names, or takes the
 * `schema-file` input's when the prompt names none. False when the named file had problems.
 */
export async function resolveSchema(spec: PromptSpec, ctx: SourceContext, read?: Set<string>): Promise<boolean> {
  if (spec.schemaFile) {
    const schema = await loadSchemaFile(spec.schemaFile.path, { file: spec.file, line: spec.schemaFile.line }, ctx, read)
    if (!schema) return false
    spec.schema = schema
  } else if (!spec.schema && ctx.defaults.schema) {
    spec.schema = ctx.defaults.schema
  }
  return true
}

/**
 * A `.prompt.yml` `jsonSchema` (github/gh-models): `{name, schema, strict?, description?}` written as a
 * string of JSON (what gh-models reads) or of YAML, or as a YAML mapping. A bare schema is taken too.
 */
export function promptYamlSchema(yaml: YamlDoc, node: Node | null, line: number, ctx: SourceContext): Schema | undefined {
  let doc = yaml
  let root = node
  let exact = true
  if (isScalar(node) && typeof node.value === 'string') {
    const text = yaml.text(node, node.value)
    // A quoted string's own line breaks are not the file's: its problems go on the key's line.
    const inner = YamlDoc.parse(node.value, yaml.file, text.exactLines ? text.line : line, ctx)
    if (!inner) return undefined
    doc = inner
    root = inner.contents
    exact = text.exactLines
  }
  if (!isMap(root)) {
    ctx.problem({
      file: yaml.file,
      line,
      message: `"jsonSchema" must hold {"name": ..., "schema": {...}} as JSON text or a mapping, not ${describeType(doc.toJS(root).value ?? null)}.`
    })
    return undefined
  }
  const wrapped = root.get('schema', true) as Node | null | undefined
  if (wrapped !== undefined && !root.has('type')) root = wrapped
  const js = doc.toJS(root)
  if (js.error !== undefined) {
    ctx.problem({ file: yaml.file, line, message: `"jsonSchema": ${js.error}` })
    return undefined
  }
  const value = checkSchema(js.value, yaml.file, (at) => (exact ? lineIn(doc, root, at, line) : line), ctx)
  return value && { value, file: yaml.file, line }
}
