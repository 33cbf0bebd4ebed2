/**
 * Rows of a data file, one at a time. CSV and JSONL are streamed, so a file of any size is never
 * held in memory; a JSON array is parsed whole (use CSV or JSONL for big data).
 */
import { createReadStream } from 'node:fs'
import { parse, type CsvError } from 'csv-parse'
import type { DataFormat, SourceContext } from './types.js'
import { lineAt, readLines } from './lines.js'
import { isPlainObject } from './params.js'
import { LimitedProblems } from './report.js'
import { readUtf8File } from './text.js'

/**
 * How CSV data is read; whoever writes the data back (with an `output` column) must read it the
 * same way so that row indexes match: a BOM is dropped, blank lines and rows with only empty
 * fields are not rows, and a stray quote inside a field (`5" screen`) is kept as text.
 */
export const CSV_OPTIONS = {
  bom: true,
  relax_quotes: true,
  skip_empty_lines: true,
  skip_records_with_empty_values: true
} as const

export type DataItem =
  /** CSV only, first: the header row. */
  | { kind: 'header'; columns: string[] }
  | {
      kind: 'row'
      values: Record<string, unknown>
      /** 1-based line where the row starts. */
      line?: number
      /** 1-based among the rows read. */
      row: number
    }

export function readDataRows(format: DataFormat, abs: string, file: string, ctx: SourceContext): AsyncGenerator<DataItem> {
  switch (format) {
    case 'csv':
      return csvRows(abs, file, ctx)
    case 'jsonl':
      return jsonlRows(abs, file, ctx)
    case 'json':
      return jsonRows(abs, file, ctx)
  }
}

async function* csvRows(abs: string, file: string, ctx: SourceContext): AsyncGenerator<DataItem> {
  const problems = new LimitedProblems(ctx, file)
  let header: string[] | undefined
  const input = createReadStream(abs)
  const parser = parse({
    ...CSV_OPTIONS,
    columns: (columns: string[]) => {
      header = columns
      const seen = new Set<string>()
      for (const c of columns) {
        if (seen.has(c)) ctx.problem({ file, line: 1, message: `Column ${JSON.stringify(c)} appears twice in the header: rename one of them.` })
        seen.add(c)
      }
      return columns
    },
    info: true,
    raw: true,
    skip_records_with_error: true
  })
  input.on('error', (error) => parser.destroy(error))
  // Where the last whole record ended: a record that cannot be read starts on the line after.
  let lastEnd = 1
  parser.on('skip', (error: CsvError) => {
    const fields = Array.isArray(error.record) ? error.record.length : undefined
    const message =
      error.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' && fields !== undefined && header
        ? `This row has ${fields} fields but the header has ${header.length} columns. Quote fields that contain commas ("like, this").`
        : error.code === 'CSV_QUOTE_NOT_CLOSED'
          ? `Invalid CSV: a quote opened in the row on this line is never closed. Close it, or double a quote inside a quoted field ("").`
          : `Invalid CSV: ${error.message}`
    // An unclosed quote is only noticed at the end of the file: say where its row begins.
    const line = error.code === 'CSV_QUOTE_NOT_CLOSED' ? lastEnd + 1 : numberOr(error.lines)
    problems.report(error.code ?? 'invalid CSV', { file, line, message })
  })
  input.pipe(parser)

  let headerSent = false
  let row = 0
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; raw: string; info: { lines: number } }>) {
      if (!headerSent && header) {
        headerSent = true
        yield { kind: 'header', columns: header }
      }
      lastEnd = item.info.lines
      yield { kind: 'row', values: item.record, line: startLine(item.raw, item.info.lines), row: ++row }
    }
  } catch (error) {
    const e = error as Error & { lines?: unknown; code?: string }
    // An unclosed quote is only noticed at the end of the file; say where the record with it begins.
    const line = e.code === 'CSV_QUOTE_NOT_CLOSED' ? lastEnd + 1 : numberOr(e.lines)
    const hint = e.code === 'CSV_QUOTE_NOT_CLOSED' ? ' Close the quote, or double a quote inside a quoted field ("").' : ''
    ctx.problem({ file, line, message: `Cannot read the CSV file: ${e.message}.${hint}` })
  } finally {
    input.destroy()
  }
  if (header && !headerSent) yield { kind: 'header', columns: header }
  if (!header) ctx.problem({ file, line: 1, message: 'The CSV file is empty: it needs a header row naming the columns, then one row per prompt.' })
  problems.finish()
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

/** csv-parse counts lines up to the end of a record; `raw` tells how many lines it spans. */
function startLine(raw: string, endLine: number): number {
  const core = raw.replace(/\r?\n$/, '').replace(/^(?:\r?\n)+/, '')
  let newlines = 0
  for (let i = core.indexOf('\n'); i !== -1; i = core.indexOf('\n', i + 1)) newlines++
  return endLine - newlines
}

async function* jsonlRows(abs: string, file: string, ctx: SourceContext): AsyncGenerator<DataItem> {
  const problems = new LimitedProblems(ctx, file)
  let row = 0
  try {
    for await (const { text, line } of readLines(abs)) {
      if (text.trim() === '') continue
      row++
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        problems.report('invalid JSON', { file, line, message: `Line ${line} is not valid JSON (${(error as Error).message}). Each line must be one JSON object.` })
        continue
      }
      if (!isPlainObject(value)) {
        problems.report('not an object', { file, line, message: `Line ${line} is not a JSON object: each line must be one object such as {"id": "a", "text": "..."}.` })
        continue
      }
      yield { kind: 'row', values: value, line, row }
    }
  } catch (error) {
    ctx.problem({ file, message: `Cannot read the file: ${(error as Error).message}` })
  }
  problems.finish()
}

async function* jsonRows(abs: string, file: string, ctx: SourceContext): AsyncGenerator<DataItem> {
  let text: string
  try {
    const read = await readUtf8File(abs, file)
    if (read.error !== undefined) {
      ctx.problem({ file, message: read.error })
      return
    }
    text = read.text
  } catch (error) {
    ctx.problem({ file, message: `Cannot read the data file: ${(error as Error).message}` })
    return
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const position = /position (\d+)/.exec(message)?.[1]
    ctx.problem({
      file,
      line: position === undefined ? undefined : lineAt(text, Number(position)),
      message: `Invalid JSON (${message}). A .json data file must be an array of objects; for big data use JSONL (one object per line) or CSV.`
    })
    return
  }
  if (!Array.isArray(value)) {
    ctx.problem({ file, line: 1, message: 'A .json data file must be an array of objects ([{...}, {...}]); use .jsonl for one object per line.' })
    return
  }
  const problems = new LimitedProblems(ctx, file)
  const lines = elementLines(text)
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i]
    const line = lines[i]
    if (!isPlainObject(element)) {
      problems.report('not an object', {
        file,
        line,
        message: `Element ${i + 1} of the array is not an object: every element must be one object such as {"id": "a", "text": "..."}.`
      })
      continue
    }
    yield { kind: 'row', values: element, line, row: i + 1 }
  }
  problems.finish()
}

/** 1-based line of each top-level array element in valid JSON text. */
export function elementLines(text: string): number[] {
  const lines: number[] = []
  let line = 1
  let depth = 0
  let inString = false
  let expecting = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '\n') {
      line++
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') continue
    if (depth === 1 && expecting && c !== ']') {
      lines.push(line)
      expecting = false
    }
    if (c === '"') inString = true
    else if (c === '[' || c === '{') {
      depth++
      if (depth === 1) expecting = true
    } else if (c === ']' || c === '}') depth--
    else if (c === ',' && depth === 1) expecting = true
  }
  return lines
}
