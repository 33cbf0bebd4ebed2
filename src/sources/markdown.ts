/**
 * Markdown and text prompt files: optional YAML front matter, then the prompt itself.
 *
 * ```
 * ---
 * model: claude-sonnet-4-5
 * max_tokens: 2048
 * system: You write product copy.
 * output: site/widget.md
 * params: { stop_sequences: ["END"] }
 * schema: schemas/widget.json   # or a YAML mapping: replies must be JSON that fits it
 * ---
 * Describe the widget.
 * ```
 */
import type { SourceContext } from './types.js'
import type { PromptSpec } from './prompt.js'
import type { TemplateText } from './template.js'
import { OWN_KEYS, refusedParam } from './params.js'
import { describeType, didYouMean, isMap, isScalar, YamlDoc, type YAMLMap } from './yaml-doc.js'
import { watched } from './report.js'
import { inlineSchema, type Schema } from './schema.js'

export const FRONT_MATTER_KEYS = ['model', 'max_tokens', 'system', 'output', 'params', 'schema'] as const

export interface MarkdownPrompt {
  spec: PromptSpec
  /** The front matter `output` path, as written. */
  output?: { path: string; line: number }
}

export type FrontMatterSplit = { yaml?: string; lines: number; body: string; unterminated?: false } | { unterminated: true }

/**
 * Separates front matter from the body. `lines` is how many lines the front matter takes, fences
 * included (0 without front matter), so the body starts on line `lines + 1`.
 */
export function splitFrontMatter(text: string): FrontMatterSplit {
  const open = /^---[ \t]*(?:\r?\n|$)/.exec(text)
  if (!open) return { lines: 0, body: text }
  const rest = text.slice(open[0].length)
  const close = /^(?:---|\.\.\.)[ \t]*\r?$/m.exec(rest)
  if (!open[0].endsWith('\n') || !close) return { unterminated: true }
  const yaml = rest.slice(0, close.index)
  let bodyStart = close.index + close[0].length
  if (rest[bodyStart] === '\n') bodyStart++
  return { yaml, lines: 2 + count(yaml, '\n'), body: rest.slice(bodyStart) }
}

/**
 * Parses a prompt file. Reports every problem found and returns undefined when there was any.
 * `ctx.defaults` fill in the model and max_tokens the front matter leaves out; `spec.system` stays
 * empty without a front matter `system` (the default system prompt is applied when rendering).
 * An explicit `system: ""` means no system prompt at all, not even the default.
 */
export function parseMarkdown(text: string, file: string, outer: SourceContext): MarkdownPrompt | undefined {
  const ctx = watched(outer)
  const split = splitFrontMatter(text)
  if (split.unterminated) {
    ctx.problem({
      file,
      line: 1,
      message: 'Front matter is not closed: add a line "---" after it (or remove the "---" on line 1 if the file has no front matter).'
    })
    return undefined
  }
  const bad = (line: number, message: string): void => ctx.problem({ file, line, message })

  let model = ctx.defaults.model
  let maxTokens = ctx.defaults.maxTokens
  const system: TemplateText[] = []
  let output: MarkdownPrompt['output']
  let extra: Record<string, unknown> = {}
  let schema: Schema | undefined
  let schemaFile: { path: string; line: number } | undefined

  if (split.yaml !== undefined) {
    const yaml = YamlDoc.parse(split.yaml, file, 2, ctx)
    if (!yaml) {
      // Reported.
    } else if (yaml.contents !== null && !isMap(yaml.contents)) {
      bad(yaml.lineOf(yaml.contents, 2), `Front matter must be keys and values (${FRONT_MATTER_KEYS.join(', ')}), not ${describeType(yaml.toJS(yaml.contents).value ?? null)}.`)
    } else if (yaml.contents) {
      for (const { key, line, value } of yaml.entries(yaml.contents, ctx)) {
        const js = yaml.toJS(value)
        if (js.error !== undefined) {
          bad(line, `Front matter key "${key}": ${js.error}`)
          continue
        }
        const v = js.value
        const noValue = (): void => bad(line, `Front matter key "${key}" has no value: give it one or remove the line.`)
        switch (key) {
          case 'model':
            if (v === null) noValue()
            else if (typeof v !== 'string' || v.trim() === '') bad(line, `Front matter key "model" must be a model name, not ${describeType(v)}.`)
            else model = v.trim()
            break
          case 'max_tokens':
            if (v === null) noValue()
            else if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
              bad(line, `Front matter key "max_tokens" must be a whole number of at least 1 (e.g. 1024), not ${describeType(v)}.`)
            else maxTokens = v
            break
          case 'system':
            if (v === null) noValue()
            else if (typeof v !== 'string') bad(line, `Front matter key "system" must be text, not ${describeType(v)}.${yaml.quoteHint(value)}`)
            else if (isScalar(value)) system.push(yaml.text(value, v))
            break
          case 'output':
            if (v === null) noValue()
            else if (typeof v !== 'string' || v.trim() === '') bad(line, `Front matter key "output" must be a workspace-relative file path, not ${describeType(v)}.`)
            else output = { path: v, line }
            break
          case 'params':
            if (v === null) noValue()
            else if (!isMap(value)) bad(line, `Front matter key "params" must be a mapping of Messages API fields (e.g. "stop_sequences: [END]"), not ${describeType(v)}.`)
            else if (checkParams(yaml, value, ctx)) extra = v as Record<string, unknown>
            break
          case 'schema':
            if (v === null) noValue()
            else if (typeof v === 'string' && v.trim() !== '') schemaFile = { path: v.trim(), line }
            else if (!isMap(value))
              bad(
                line,
                `Front matter key "schema" must be a JSON Schema written as a YAML mapping (e.g. "type: object"), or the path of a .json schema file, not ${describeType(v)}.`
              )
            else schema = inlineSchema(yaml, value, line, ctx)
            break
          default:
            bad(line, `Unknown front matter key "${key}". Allowed keys: ${FRONT_MATTER_KEYS.join(', ')}.${didYouMean(key, FRONT_MATTER_KEYS)}`)
        }
      }
    }
  }

  const line = split.lines + 1
  if (split.body.trim() === '') bad(line, 'Prompt is empty: write the prompt' + (split.yaml !== undefined ? ' after the front matter.' : ' in the file.'))
  if (ctx.failed) return undefined
  return {
    spec: {
      file,
      model,
      maxTokens,
      system,
      messages: [{ role: 'user', content: { text: split.body, line, exactLines: true } }],
      extra,
      line,
      ...(schema ? { schema } : {}),
      ...(schemaFile ? { schemaFile } : {})
    },
    output
  }
}

/** `params` keys the API would refuse or that duplicate a front matter key. True when all are fine. */
function checkParams(yaml: YamlDoc, params: YAMLMap, ctx: SourceContext): boolean {
  let ok = true
  for (const { key, line } of yaml.entries(params, ctx)) {
    const why = Object.hasOwn(OWN_KEYS, key) ? `${OWN_KEYS[key]}, not inside params` : (refusedParam(key) ?? outputFormatInParams(yaml, params, key))
    if (why) {
      ok = false
      ctx.problem({ file: yaml.file, line, message: `"params.${key}" is not allowed: ${why}` })
    }
  }
  return ok
}

/** `params.output_config.format` would be sent unchecked, and replies not validated: it has its own key. */
function outputFormatInParams(yaml: YamlDoc, params: YAMLMap, key: string): string | undefined {
  if (key !== 'output_config') return undefined
  const config = yaml.toJS(params.get(key, true) as never).value
  return config && typeof config === 'object' && 'format' in config
    ? 'give the JSON Schema with the front matter key "schema", which is checked and validates every reply.'
    : undefined
}

function count(text: string, ch: string): number {
  let n = 0
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++
  return n
}
