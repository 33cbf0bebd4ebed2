import * as core from '@actions/core'
import { stat } from 'node:fs/promises'
import { warn } from './annotations.js'
import { esc, info } from './log.js'

// GitHub shows no job summary over 1 MiB (the runner refuses the whole step's summary).
export const MAX_SUMMARY_BYTES = 1024 * 1024

/**
 * Appends what core.summary holds to the job summary. A summary is a report, not the work: one that
 * cannot be written (no such file, no permission, over GitHub's size limit) is a warning, never
 * the reason a step that did its work fails. The buffer is emptied either way.
 */
export async function writeJobSummary(summary: typeof core.summary = core.summary): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) {
    // Not a runner (a local run): there is nowhere to write to, and nothing went wrong.
    info('No job summary here (GITHUB_STEP_SUMMARY is not set).')
    summary.emptyBuffer()
    return
  }
  try {
    const before = await stat(file).then(
      (s) => s.size,
      () => 0
    )
    const size = Buffer.byteLength(summary.stringify(), 'utf8')
    if (before + size > MAX_SUMMARY_BYTES) {
      summary.emptyBuffer()
      warn(
        `The job summary would be ${Math.ceil((before + size) / 1024)} KiB, over GitHub's 1 MiB limit, so this part (${Math.ceil(size / 1024)} KiB) was left out. The log and the artifacts hold every result.`,
        { title: 'Job summary' }
      )
      summary.addRaw("<p>Part of this summary was left out: it would have been over GitHub's 1 MiB limit. See the log.</p>", true)
      if (before + Buffer.byteLength(summary.stringify(), 'utf8') > MAX_SUMMARY_BYTES) return void summary.emptyBuffer()
    }
    await summary.write()
  } catch (error) {
    summary.emptyBuffer()
    warn(`Could not write the job summary (${esc((error as Error).message)}); the step goes on without it; the log and the step outputs have the results.`, {
      title: 'Job summary'
    })
  }
}
