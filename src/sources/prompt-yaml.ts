/**
 * GitHub prompt files (`.prompt.yml` / `.prompt.yaml`, the github/gh-models format): messages with
 * `{{var}}` placeholders, filled from each `testData` row.
 */
import path from 'node:path'
import type { PromptRequest, SourceContext } from './types.js'
import { render, variablesOf, type PromptSpec } from './prompt.js'
import { stringifyValue, type TemplateText } from './template.js'
import { API_VERSION, isPlainObject } from './params.js'
import { quoteList, RowTally, watched } from './report.js'
import { describeType, didYouMean, isMap, isScalar, isSeq, YamlDoc, type Node } from './yaml-doc.js'
import { promptYamlSchema, type Schema } from './schema.js'

export const PROMPT_YAML_KEYS = ['name', 'description', 'model', 'modelParameters', 'messages', 'testData', 'evaluators', 'responseFormat', 'jsonSchema'] as const
export const MODEL_PARAMETER_KEYS = ['maxTokens', 'maxCompletionTokens', 'temperature', 'topP', 'stop'] as const
const ROLES = ['system', 'user', 'assistant'] as const

export interface TestRow {
  values: Record<string, unknown>
  line: number
  /** 1-based. */
  row: number
}

export interface PromptYaml {
  spec: PromptSpec
  testData?: { rows: TestRow[]; line: number }
}

/** Parses a `.prompt.yml`. Reports every problem found and returns undefined when there was any. */
export function parsePromptYaml(text: string, file: string, outer: SourceContext): PromptYaml | undefined {
  const ctx = watched(outer)
  const bad = (line: number, message: string): void => ctx.problem({ file, line, message })
  const yaml = YamlDoc.parse(text, file, 1, ctx)
  if (!yaml) return undefined
  if (!isMap(yaml.contents)) {
    bad(yaml.lineOf(yaml.contents, 1), `A .prompt.yml file must be a mapping with at least "messages", not ${describeType(yaml.toJS(yaml.contents).value ?? null)}.`)
    return undefined
  }

  let model = ctx.defaults.model
  let maxTokens: { value: number; key: string } | undefined
  const extra: Record<string, unknown> = {}
  const system: TemplateText[] = []
  const messages: PromptSpec['messages'] = []
  let messagesSeen = false
  let testData: PromptYaml['testData']
  let responseFormat: { value: unknown; line: number } | undefined
  let jsonSchema: { node: Node | null; line: number } | undefined

  for (const { key, line, value } of yaml.entries(yaml.contents, ctx)) {
    const js = yaml.toJS(value)
    if (js.error !== undefined) {
      bad(line, `"${key}": ${js.error}`)
      continue
    }
    const v = js.value
    switch (key) {
      case 'name':
      case 'description':
      case 'evaluators': // for `gh models eval`, not for generation
        break
      case 'model':
        if (typeof v !== 'string' || v.trim() === '') bad(line, `"model" must be a model name, not ${describeType(v)}.`)
        else model = v.trim()
        break
      case 'modelParameters':
        if (v === null) break
        if (!isMap(value)) {
          bad(line, `"modelParameters" must be a mapping (e.g. "maxTokens: 500"), not ${describeType(v)}.`)
          break
        }
        for (const p of yaml.entries(value, ctx)) {
          const pv = yaml.toJS(p.value)
          const pvalue = pv.error === undefined ? pv.value : undefined
          switch (p.key) {
            case 'maxTokens':
            case 'maxCompletionTokens':
              if (typeof pvalue !== 'number' || !Number.isInteger(pvalue) || pvalue < 1) {
                bad(p.line, `"modelParameters.${p.key}" must be a whole number of at least 1 (e.g. 1024), not ${describeType(pvalue)}.`)
              } else if (maxTokens && maxTokens.value !== pvalue) {
                ctx.warning({ file, line: p.line, message: `Both maxTokens and maxCompletionTokens are set; max_tokens ${maxTokens.value} (from ${maxTokens.key}) is used.` })
              } else if (!maxTokens) {
                maxTokens = { value: pvalue, key: p.key }
              }
              break
            case 'temperature':
            case 'topP':
              ctx.warning({ file, line: p.line, message: `modelParameters.${p.key} is not sent: API version ${API_VERSION} rejects sampling parameters.` })
              break
            case 'stop': {
              const stops = typeof pvalue === 'string' ? [pvalue] : pvalue
              if (!Array.isArray(stops) || !stops.every((s) => typeof s === 'string' && s !== '')) {
                bad(p.line, `"modelParameters.stop" must be a text or a list of texts, not ${describeType(pvalue)}.`)
              } else if (stops.length) {
                extra.stop_sequences = stops
              }
              break
            }
            default:
              bad(p.line, `Unknown modelParameters key "${p.key}". Allowed keys: ${MODEL_PARAMETER_KEYS.join(', ')}.${didYouMean(p.key, MODEL_PARAMETER_KEYS)}`)
          }
        }
        break
      case 'messages':
        messagesSeen = true
        if (!isSeq(value)) {
          bad(line, `"messages" must be a list of {role, content}, not ${describeType(v)}.`)
          break
        }
        for (const item of value.items as Array<Node | null>) {
          const message = readMessage(yaml, item, ctx)
          if (message?.role === 'system') system.push(message.content)
          else if (message) messages.push({ role: message.role, content: message.content })
        }
        break
      case 'testData':
        testData = readTestData(yaml, value, line, ctx)
        break
      case 'responseFormat':
        responseFormat = { value: v, line }
        break
      case 'jsonSchema':
        jsonSchema = { node: value, line }
        break
      default:
        bad(line, `Unknown key "${key}". Allowed keys: ${PROMPT_YAML_KEYS.join(', ')}.${didYouMean(key, PROMPT_YAML_KEYS)}`)
    }
  }

  const schema = structuredOutput(yaml, responseFormat, jsonSchema, ctx)

  const first = messages.find((m) => m.role === 'user')
  if (messagesSeen && !first && !ctx.failed) bad(yaml.lineOf(yaml.contents.get('messages', true) as Node), 'There is no user message: add one with "role: user".')
  if (!messagesSeen) bad(1, 'There are no messages: add "messages:" with at least one "role: user" message.')
  if (ctx.failed || !first) return undefined
  return {
    spec: { file, model, maxTokens: maxTokens?.value ?? ctx.defaults.maxTokens, system, messages, extra, line: first.content.line, ...(schema ? { schema } : {}) },
    testData
  }
}

/**
 * `responseFormat: json_schema` with `jsonSchema` asks for structured output (sent as
 * output_config.format). `json_object` has no equivalent in Claude's API: JSON needs a schema.
 */
function structuredOutput(
  yaml: YamlDoc,
  format: { value: unknown; line: number } | undefined,
  jsonSchema: { node: Node | null; line: number } | undefined,
  ctx: SourceContext
): Schema | undefined {
  const file = yaml.file
  const value = format?.value ?? null
  if (format && value !== null && value !== 'text' && value !== 'json_schema') {
    if (value === 'json_object') {
      ctx.warning({
        file,
        line: format.line,
        message:
          "responseFormat json_object is not sent: Claude's API gives JSON only with a schema. Use responseFormat: json_schema with a jsonSchema, or ask for JSON in the prompt."
      })
    } else {
      ctx.problem({ file, line: format.line, message: `Unknown responseFormat ${JSON.stringify(value)}: use text or json_schema (with jsonSchema).` })
    }
  }
  if (value === 'json_schema' && !jsonSchema) {
    ctx.problem({ file, line: format!.line, message: 'responseFormat is json_schema but there is no jsonSchema: add jsonSchema with {"name": ..., "schema": {...}}.' })
    return undefined
  }
  if (!jsonSchema) return undefined
  if (value !== 'json_schema') {
    ctx.warning({ file, line: jsonSchema.line, message: 'jsonSchema is not sent without "responseFormat: json_schema": add that line to get replies that fit it.' })
    return undefined
  }
  return promptYamlSchema(yaml, jsonSchema.node, jsonSchema.line, ctx)
}

function readMessage(yaml: YamlDoc, item: Node | null, ctx: SourceContext): { role: (typeof ROLES)[number]; content: TemplateText } | undefined {
  const line = yaml.lineOf(item)
  const bad = (at: number, message: string): undefined => {
    ctx.problem({ file: yaml.file, line: at, message })
    return undefined
  }
  if (!isMap(item)) return bad(line, 'Each message must be a mapping with "role" and "content".')
  let role: (typeof ROLES)[number] | undefined
  let content: TemplateText | undefined
  let roleSeen = false
  let contentSeen = false
  for (const { key, line: keyLine, value } of yaml.entries(item, ctx)) {
    const js = yaml.toJS(value)
    const v = js.error === undefined ? js.value : undefined
    if (key === 'role') {
      roleSeen = true
      const r = typeof v === 'string' ? v.trim().toLowerCase() : undefined
      if (r && (ROLES as readonly string[]).includes(r)) role = r as (typeof ROLES)[number]
      else bad(keyLine, `Unknown message role ${JSON.stringify(v)}. Use one of: ${ROLES.join(', ')}.`)
    } else if (key === 'content') {
      contentSeen = true
      if (typeof v !== 'string' || !isScalar(value)) bad(keyLine, `Message content must be text, not ${describeType(v)}.${yaml.quoteHint(value)}`)
      else if (v.trim() === '') bad(keyLine, 'Message content is empty: write the message or remove it.')
      else content = yaml.text(value, v)
    } else {
      bad(keyLine, `Unknown message key "${key}". A message has only "role" and "content".`)
    }
  }
  if (!roleSeen) bad(line, 'This message has no "role": add "role: user" (or system, assistant).')
  if (!contentSeen) bad(line, 'This message has no "content": add the message text.')
  return role && content ? { role, content } : undefined
}

function readTestData(yaml: YamlDoc, value: Node | null, line: number, ctx: SourceContext): PromptYaml['testData'] {
  if (!isSeq(value)) {
    ctx.problem({
      file: yaml.file,
      line,
      message: `"testData" must be a list of rows (mappings of variable names to values), not ${describeType(yaml.toJS(value).value ?? null)}.`
    })
    return undefined
  }
  if (value.items.length === 0) {
    ctx.problem({ file: yaml.file, line, message: '"testData" is empty: add rows, or remove it to send the prompt once.' })
    return undefined
  }
  const rows: TestRow[] = []
  ;(value.items as Array<Node | null>).forEach((item, i) => {
    const rowLine = yaml.lineOf(item, line)
    const js = yaml.toJS(item)
    if (!isMap(item) || js.error !== undefined || !isPlainObject(js.value)) {
      ctx.problem({ file: yaml.file, line: rowLine, message: `testData row ${i + 1} must be a mapping of variable names to values (e.g. "input: some text").` })
      return
    }
    rows.push({ values: js.value, line: rowLine, row: i + 1 })
  })
  return { rows, line }
}

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/

/**
 * The requests of a `.prompt.yml` used as a prompt file: one per testData row (or one without
 * testData). `name` is the file's path relative to its glob base, without `.prompt.yml`.
 */
export function* promptYamlRequests(parsed: PromptYaml, name: string, ctx: SourceContext): Generator<PromptRequest> {
  const { spec, testData } = parsed
  const file = spec.file
  // A reply that fits a schema is JSON, and is named so.
  const extension = spec.schema ? '.json' : '.md'
  if (!testData) {
    let ok = true
    for (const [variable, line] of variablesOf(spec)) {
      ok = false
      ctx.problem({
        file,
        line,
        message: `Missing template variable "${variable}": this file has no testData to fill it. Add testData rows with "${variable}", or remove {{${variable}}}.`
      })
    }
    if (!ok) return
    const { params } = render(spec, ctx.defaults.system)
    yield { key: name, params, output: { kind: 'file', path: path.posix.join(ctx.outputDir, `${name}${extension}`) }, origin: { file, line: spec.line } }
    return
  }

  const missing = new RowTally()
  const empty = new RowTally()
  const names = new Map<string, number>()
  for (const row of testData.rows) {
    const id = row.values.id
    let rowName = String(row.row)
    if (id !== undefined && id !== null && id !== '') {
      rowName = stringifyValue(id)
      if (!SAFE_NAME.test(rowName)) {
        ctx.problem({
          file,
          line: row.line,
          message: `testData row ${row.row}: id ${JSON.stringify(rowName)} cannot be a file name. Use letters, digits, "-", "_" and "." (not first).`
        })
        continue
      }
    }
    const firstLine = names.get(rowName)
    if (firstLine !== undefined) {
      ctx.problem({
        file,
        line: row.line,
        message: `testData row ${row.row} has the same name "${rowName}" as the row on line ${firstLine}: give each row a different id.`
      })
      continue
    }
    names.set(rowName, row.line)

    const { params, missing: lacking, empty: isEmpty } = render(spec, ctx.defaults.system, (v) => (Object.hasOwn(row.values, v) ? stringifyValue(row.values[v]) : undefined))
    for (const v of lacking) missing.add(v, row.row, row.line)
    if (isEmpty) empty.add('', row.row, row.line)
    if (lacking.size || isEmpty) continue
    yield {
      key: `${name}/${rowName}`,
      params,
      output: { kind: 'file', path: path.posix.join(ctx.outputDir, name, `${rowName}${extension}`) },
      origin: { file, line: row.line, row: row.row }
    }
  }
  for (const m of missing) {
    const fields = Object.keys(testData.rows.find((r) => r.line === m.line)?.values ?? {})
    ctx.problem({
      file,
      line: m.line,
      message: `Template variable "${m.key}" is missing from testData ${m.rows} (${m.count} of ${testData.rows.length} rows). Add "${m.key}" to ${m.count === 1 ? 'that row' : 'those rows'} or remove {{${m.key}}} from the messages. Fields in the first such row: ${quoteList(fields)}.`
    })
  }
  for (const e of empty) {
    ctx.problem({ file, line: e.line, message: `The prompt is empty for testData ${e.rows}: give those rows some text.` })
  }
}
