import path from 'node:path'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { stringify } from 'csv-stringify'
import type { Plan, DataOutput } from '../plan/plan.js'
import type { Problem } from '../sources/types.js'
import { readDataRows } from '../sources/data-rows.js'
import type { ResultCollector } from './collect.js'
import { writeOutputFile } from './atomic.js'

/** By data output path: the previous output text of each unchanged row, by its row index now. */
export type PreviousRows = Map<string, Map<number, string>>

/**
 * Writes each data file's output: every input row, in order and in the input's format, plus an
 * `output` field with the generated text (empty where the request did not succeed). The input is
 * read again row by row and the texts come from the collector's spool in the same order, so neither
 * is held whole.
 */
export async function writeDataOutputs(
  plan: Plan,
  collector: ResultCollector,
  workspace: string,
  skip: (output: DataOutput) => Promise<boolean> = async () => false,
  previous: PreviousRows = new Map()
): Promise<void> {
  for (const output of plan.dataOutputs) {
    if (await skip(output)) continue
    // The request of each row (-1: not sent this time), 4 bytes a row.
    const order = new Int32Array(output.rows).fill(-1)
    plan.requests.forEach((r, i) => {
      if (r.output?.kind === 'data-row' && r.output.path === output.path) order[r.output.index] = i
    })
    const texts = await collector.dataTexts(order)
    const kept = previous.get(output.path)
    await writeDataFile(output, workspace, async (index) => {
      const text = await texts.next()
      // A row not sent this time (unchanged) keeps the output it had in the previous generated file.
      return order[index] === -1 ? (kept?.get(index) ?? '') : text || ''
    })
    collector.written.add(output.path)
  }
}

async function writeDataFile(output: DataOutput, workspace: string, textOf: (index: number) => Promise<string>): Promise<void> {
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
          csv = stringify({ header: true, columns: [...item.columns, 'output'] })
          csv.pipe(file)
          continue
        }
        // Texts are handed out in row order: each row must be the next one.
        if (item.row - 1 !== next++ || next > output.rows) throw changed(`row ${item.row} was not expected`)
        const row = { ...item.values, output: await textOf(item.row - 1) }
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
