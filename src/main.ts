import * as core from '@actions/core'
import { readInputs } from './inputs.js'
import { submit } from './commands/submit.js'
import { annotate } from './report/annotations.js'

/** Reads the inputs, runs the command, and turns any failure into a failed step. */
export async function run(): Promise<void> {
  try {
    const { inputs, problems } = await readInputs()
    if (inputs.command !== 'submit') {
      // collect, status and cancel work from the manifests that submit will persist; they are not built yet.
      problems.push({ message: `Input command: "${inputs.command}" is not available yet; this version supports submit only.` })
      annotate('error', problems)
      core.setFailed(problems.map((p) => p.message).join('\n'))
      return
    }
    await submit(inputs, problems)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
    if (error instanceof Error && error.stack) core.debug(error.stack)
  }
}
