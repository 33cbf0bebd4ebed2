/**
 * `data` + `template`: one request per row of a CSV, JSONL or JSON array file, the template's
 * `{{column}}` placeholders filled from the row. Every row's result later becomes its `output` field.
 */
import path from 'node:path'
import type { DataFormat, PromptRequest, SourceContext } from './types.js'
import { parseMarkdown } from './markdown.js'
import { parsePromptYaml } from './prompt-yaml.js'
import { render, variablesOf, type PromptSpec } from './prompt.js'
import { fixedLead, stringifyValue } from './template.js'
import { readDataRows } from './data-rows.js'
import { PROMPT_EXTENSIONS_TEXT, promptKind } from './kinds.js'
import { quoteList, RowTally, watched } from './report.js'
import { readUtf8File } from './text.js'
import { resolveSchema, topLevelProperties } from './schema.js'

/** The column the results are written to; input data must not have it already. */
export const OUTPUT_FIELD = 'output'

/** Parses the template prompt file. Reports every problem found and returns undefined when there was any. */
export async function loadTemplate(file: string, abs: string, ctx: SourceContext, read?: Set<string>): Promise<PromptSpec | undefined> {
  const kind = promptKind(file)
  if (!kind) {
    ctx.problem({ file, message: `The template input must name a prompt file (${PROMPT_EXTENSIONS_TEXT}), not "${file}".` })
    return undefined
  }
  let text: string
  try {
    const read = await readUtf8File(abs, file)
    if (read.error !== undefined) {
      ctx.problem({ file, message: read.error })
      return undefined
    }
    text = read.text
  } catch (error) {
    ctx.problem({ file, message: `Cannot read the template: ${(error as Error).message}` })
    return undefined
  }
  if (kind === 'markdown') {
    const parsed = parseMarkdown(text, file, ctx)
    if (parsed?.output) {
      ctx.problem({
        file,
        line: parsed.output.line,
        message: `Front matter key "output" cannot be used in a template: each row's result goes into that row's "${OUTPUT_FIELD}" field in the copy of the data file under output-dir. Remove it.`
      })
      return undefined
    }
    return parsed && (await withColumns(parsed.spec, ctx, read))
  }
  const parsed = parsePromptYaml(text, file, ctx)
  if (parsed?.testData) {
    ctx.problem({
      file,
      line: parsed.testData.line,
      message: 'A template cannot have testData: its rows come from the data input. Remove testData, or list this file in the prompts input instead.'
    })
    return undefined
  }
  return parsed && (await withColumns(parsed.spec, ctx, read))
}

/**
 * A template's schema, settled: its top-level properties become the data file's result columns, so
 * it must be an object schema with properties.
 */
async function withColumns(spec: PromptSpec, ctx: SourceContext, read?: Set<string>): Promise<PromptSpec | undefined> {
  if (!(await resolveSchema(spec, ctx, read))) return undefined
  if (spec.schema && !topLevelProperties(spec.schema.value)) {
    ctx.problem({
      file: spec.schema.file,
      line: spec.schema.line,
      message: 'A data file\'s schema must be an object with "properties": each property becomes a column of the generated file.'
    })
    return undefined
  }
  return spec
}

/**
 * One request per data row. With no template (it had problems) the data file is still read, to
 * report its own problems too.
 */
export async function* dataRequests(data: { file: string; abs: string; format: DataFormat }, spec: PromptSpec | undefined, ctx: SourceContext): AsyncGenerator<PromptRequest> {
  const { file, format } = data
  const base = path.posix.basename(file)
  const stem = base.replace(/\.[^.]*$/, '') || base
  const outputPath = path.posix.join(ctx.outputDir, base)
  const variables = spec ? variablesOf(spec) : new Map<string, number>()
  // With a schema, each top-level property is a result column; without, the one `output` column.
  const columns = spec?.schema && topLevelProperties(spec.schema.value)
  const resultFields = columns ?? [OUTPUT_FIELD]
  const clash = columns
    ? `is also a property of the schema (${spec!.schema!.file}:${spec!.schema!.line}), whose values fill a column of that name: rename the column or the property.`
    : ''
  let usable = spec !== undefined
  const missing = new RowTally()
  const hasOutput = new RowTally()
  const empty = new RowTally()
  /** For each missing variable, the fields of the first row lacking it. */
  const fieldsSeen = new Map<string, string[]>()
  const reading = watched(ctx)
  let rows = 0
  // Every row shares the template's text before its first variable: prompt caching's lead (plan/cache.ts).
  const cacheLead = spec && fixedLead(spec.messages)

  for await (const item of readDataRows(format, data.abs, file, reading)) {
    if (item.kind === 'header') {
      for (const field of resultFields) {
        if (!item.columns.includes(field)) continue
        const message = columns ? `The data's column "${field}" ${clash}` : `The data has a column named "${OUTPUT_FIELD}", where the results will be written: rename that column.`
        ctx.problem({ file, line: 1, message })
      }
      for (const [name, line] of variables) {
        if (!item.columns.includes(name)) {
          usable = false
          ctx.problem({
            file: spec!.file,
            line,
            message: `Template variable "${name}" is not a column of ${file}. Available columns: ${quoteList(item.columns)}.`
          })
        }
      }
      continue
    }
    rows++
    const { values, line, row } = item
    if (format !== 'csv') for (const field of resultFields) if (Object.hasOwn(values, field)) hasOutput.add(field, row, line)
    if (!usable) continue
    const rendered = render(spec!, ctx.defaults.system, (name) => (Object.hasOwn(values, name) ? stringifyValue(values[name]) : undefined))
    for (const name of rendered.missing) {
      if (!fieldsSeen.has(name)) fieldsSeen.set(name, Object.keys(values))
      missing.add(name, row, line)
    }
    if (rendered.empty) empty.add('', row, line)
    if (rendered.missing.size || rendered.empty) continue
    const id = values.id
    const rowId = id === undefined || id === null || stringifyValue(id).trim() === '' ? String(row) : stringifyValue(id)
    yield {
      key: `${stem}-${rowId}`,
      params: rendered.params,
      output: { kind: 'data-row', path: outputPath, source: file, format, index: row - 1, ...(columns ? { columns } : {}) },
      origin: { file, line, row },
      ...(cacheLead ? { cacheLead } : {})
    }
  }

  for (const m of missing) {
    ctx.problem({
      file,
      line: m.line,
      message: `Template variable "${m.key}" (${spec!.file}:${variables.get(m.key)}) is missing from ${m.rows} of ${file}. Add "${m.key}" to ${m.count === 1 ? 'that row' : 'those rows'} or remove {{${m.key}}} from the template. Fields in the first such row: ${quoteList(fieldsSeen.get(m.key) ?? [])}.`
    })
  }
  for (const o of hasOutput) {
    const why = columns ? `which ${clash}` : 'where the results will be written: rename that field.'
    ctx.problem({ file, line: o.line, message: `${capitalize(o.rows)} already ${o.count === 1 ? 'has a field' : 'have a field'} named "${o.key}", ${why}` })
  }
  for (const e of empty) {
    ctx.problem({ file, line: e.line, message: `The prompt is empty for ${e.rows}: the template gives no text with ${e.count === 1 ? "this row's" : "these rows'"} values.` })
  }
  if (rows === 0 && !reading.failed) {
    ctx.warning({ file, message: `The data file has no rows, so it gives no requests.` })
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
