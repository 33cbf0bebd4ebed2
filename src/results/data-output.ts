import path from 'node:path'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { stringify } from 'csv-stringify'
import type { Plan, DataOutput } from '../plan/plan.js'
import type { Problem } from '../sources/types.js'
import { readDataRows } from '../sources/data-rows.js'
import type { ResultCollector } from './collect.js'
import { writeOutputFile } from './atomic.js'
import type { JsonObject } from '../sources/schema.js'

/**
 * By data output path: the previous result fields (`output`, or the schema's columns) of each
 * unchanged row, by its row index now.
 */
export type PreviousRows = Map<string, Map<number, Record<string, unknown>>>

/** The result columns of a data output: the schema's top-level properties, or `output`. */
export function resultColumns(output: Pick<DataOutput, 'columns'>): string[] {
  return output.columns ?? ['output']
}

/**
 * A row's previous result fields, read from the generated file, or undefined when it has none
 * (it is then written empty and, with no lock entry, sent again next run).
 */
export function previousFields(values: Record<string, unknown>, output: Pick<DataOutput, 'columns'>): Record<string, unknown> | undefined {
  if (!output.columns) return typeof values.output === 'string' && values.output ? { output: values.output } : undefined
  const fields: Record<string, unknown> = {}
  for (const c of output.columns) if (Object.hasOwn(values, c)) fields[c] = values[c]
  return Object.values(fields).some((v) => v !== '' && v !== null && v !== undefined) ? fields : undefined
}

/** How often each value of an `enum` or `boolean` property occurs in a generated data file. */
export interface Distribution {
  path: string
  rows: number
  /** Property → value (as text) → rows holding it. */
  properties: Map<string, Map<string, number>>
}

/**
 * Writes each data file's output: every input row, in order and in the input's format, plus the
 * result fields: an `output` field with the generated text, or with a schema one field per
 * top-level property (empty where the request did not succeed). The input is read again row by row
 * and the replies come from the collector's spool in the same order, so neither is held whole. Returns the value
 * distributions of the schema's enum and boolean properties, for the job summary.
 */
export async function writeDataOutputs(
  plan: Plan,
  collector: ResultCollector,
  workspace: string,
  skip: (output: DataOutput) => Promise<boolean> = () => Promise.resolve(false),
  previous: PreviousRows = new Map()
): Promise<Distribution[]> {
  const distributions: Distribution[] = []
  for (const output of plan.dataOutputs) {
    if (await skip(output)) continue
    // The request of each row (-1: not sent this time), 4 bytes a row.
    const order = new Int32Array(output.rows).fill(-1)
    let schema: JsonObject | undefined
    plan.requests.forEach((r, i) => {
      if (r.output?.kind === 'data-row' && r.output.path === output.path) {
        order[r.output.index] = i
        if (r.schema !== undefined) schema ??= plan.schemas?.[r.schema]
      }
    })
    const tally = output.columns && schema ? new Tally(output.path, categorical(schema, output.columns)) : undefined
    const texts = await collector.dataTexts(order)
    const kept = previous.get(output.path)
    await writeDataFile(output, workspace, async (index) => {
      const text = await texts.next()
      // A row not sent this time (unchanged) keeps the output it had in the previous generated file.
      const fields = order[index] === -1 ? kept?.get(index) : replyFields(text, output)
      tally?.add(fields)
      return fields ?? {}
    })
    collector.written.add(output.path)
    if (tally?.properties.size) distributions.push(tally)
  }
  collector.distributions.push(...distributions)
  return distributions
}

function replyFields(text: string | undefined, output: DataOutput): Record<string, unknown> | undefined {
  if (!text) return undefined
  // Only replies that fit their schema count as succeeded, so this parses.
  return output.columns ? (JSON.parse(text) as Record<string, unknown>) : { output: text }
}

/** The columns whose property is an enum or a boolean: their values fall into a few kinds worth counting. */
function categorical(schema: JsonObject, columns: readonly string[]): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonObject>
  const resolve = (s: JsonObject | undefined): JsonObject | undefined => {
    const ref = s?.$ref
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return s
    let at: unknown = schema
    for (const key of ref.slice(2).split('/')) at = (at as Record<string, unknown> | undefined)?.[key]
    return at as JsonObject | undefined
  }
  return columns.filter((c) => {
    const p = resolve(props[c])
    return p !== undefined && (Array.isArray(p.enum) || p.type === 'boolean')
  })
}

class Tally implements Distribution {
  rows = 0
  readonly properties = new Map<string, Map<string, number>>()

  constructor(
    readonly path: string,
    columns: string[]
  ) {
    for (const c of columns) this.properties.set(c, new Map())
  }

  add(fields: Record<string, unknown> | undefined): void {
    if (!fields) return
    this.rows++
    for (const [column, counts] of this.properties) {
      const v = fields[column]
      if (v === undefined || v === '') continue
      const key = typeof v === 'string' ? v : JSON.stringify(v)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
}

/** A result value in a CSV cell: text as is, nothing as empty, anything else as JSON text. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

async function writeDataFile(output: DataOutput, workspace: string, fieldsOf: (index: number) => Promise<Record<string, unknown>>): Promise<void> {
  // The rows were checked when planning; a problem now (or more rows) would be a file changed mid-run.
  const changed = (why: string) => new Error(`${JSON.stringify(output.source)} changed while the batch ran: ${why}`)
  const ctx = {
    workspace,
    outputDir: '',
    defaults: { model: '', maxTokens: 1 },
    problem: (p: Problem) => {
      throw changed(p.message)
    },
    warning: () => {}
  }
  const columns = resultColumns(output)
  // Through the write guard: the path is checked again now, and the file appears whole or not at all.
  await writeOutputFile(workspace, output.path, async (temporary) => {
    const file = createWriteStream(temporary)
    const write = async (chunk: string) => {
      if (!file.write(chunk)) await once(file, 'drain')
    }
    try {
      let csv: ReturnType<typeof stringify> | undefined
      let first = true
      let next = 0
      const rows = readDataRows(output.format, path.join(workspace, output.source), output.source, ctx)
      if (output.format === 'json') await write('[\n')
      for await (const item of rows) {
        if (item.kind === 'header') {
          csv = stringify({ header: true, columns: [...item.columns, ...columns] })
          csv.pipe(file)
          continue
        }
        // Replies are handed out in row order: each row must be the next one.
        if (item.row - 1 !== next++ || next > output.rows) throw changed(`row ${item.row} was not expected`)
        const fields = await fieldsOf(item.row - 1)
        const row: Record<string, unknown> = { ...item.values }
        // Nested values are JSON text in a CSV cell and stay native in JSONL and JSON.
        for (const c of columns) row[c] = output.format === 'csv' ? cell(fields[c]) : (fields[c] ?? (output.columns ? null : ''))
        if (output.format === 'csv') {
          if (!csv!.write(row)) await once(csv!, 'drain')
        } else if (output.format === 'jsonl') await write(JSON.stringify(row) + '\n')
        else await write(`${first ? '' : ',\n'}  ${JSON.stringify(row)}`)
        first = false
      }
      if (output.format === 'json') await write('\n]\n')
      // A piped CSV stream ends the file itself once it has flushed.
      if (csv) csv.end()
      else file.end()
      await once(file, 'finish')
    } catch (error) {
      file.destroy()
      throw error
    }
  })
}
