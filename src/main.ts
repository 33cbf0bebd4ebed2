import * as core from '@actions/core'
import { readInputs } from './inputs.js'
import { submit } from './commands/submit.js'
import { collect } from './commands/collect.js'
import { status } from './commands/status.js'
import { cancel } from './commands/cancel.js'
import { annotate, fail, flushAnnotations } from './report/annotations.js'
import { writeAnnotationList } from './report/summary.js'

/** Reads the inputs, runs the command, and turns any failure into a failed step. */
export async function run(): Promise<void> {
  try {
    const { inputs, problems } = await readInputs()
    const commands = { submit, collect, status, cancel }
    if (!(inputs.command in commands)) {
      annotate('error', problems)
      fail(problems.map((p) => p.message).join('\n'))
      return
    }
    await commands[inputs.command](inputs, problems)
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error))
    if (error instanceof Error && error.stack) core.debug(error.stack)
  } finally {
    // Last: every annotation of the step, capped and ordered as GitHub shows them.
    await flushAnnotations(writeAnnotationList)
  }
}
