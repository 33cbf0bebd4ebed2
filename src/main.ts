import * as core from '@actions/core'
import { readInputs } from './inputs.js'
import { submit } from './commands/submit.js'
import { collect } from './commands/collect.js'
import { status } from './commands/status.js'
import { cancel } from './commands/cancel.js'
import { annotate } from './report/annotations.js'

/** Reads the inputs, runs the command, and turns any failure into a failed step. */
export async function run(): Promise<void> {
  try {
    const { inputs, problems } = await readInputs()
    const commands = { submit, collect, status, cancel }
    if (!(inputs.command in commands)) {
      annotate('error', problems)
      core.setFailed(problems.map((p) => p.message).join('\n'))
      return
    }
    await commands[inputs.command](inputs, problems)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
    if (error instanceof Error && error.stack) core.debug(error.stack)
  }
}
