import * as core from '@actions/core'
import { warn } from './annotations.js'

/** Every output the action sets, by the names in action.yml. */
export interface Outputs {
  'batch-id': string
  'batch-ids': string[]
  status: 'dry-run' | 'up-to-date' | 'in_progress' | 'ended' | 'failed'
  'request-count': number
  'unchanged-count': number
  'pending-count': number
  'deferred-count': number
  succeeded: number
  errored: number
  canceled: number
  expired: number
  'results-file': string
  'output-files': string[]
  'estimated-cost-usd': string
  'cost-usd': string
  'manifest-artifact-id': number | undefined
  'pull-request-url': string
  /** collect: the results artifact of the first submission collected (as batch-id names the first batch). */
  'results-artifact-id': number | undefined
  /** collect: every results artifact this run uploaded, one per submission, in the order of batch-ids. */
  'results-artifact-ids': number[]
}

// A step's outputs share a 1 MB limit; a list of 100,000 paths does not fit, and a cut list would
// mislead, so a list over this size is left out with a warning naming the file that holds it.
const MAX_LIST_BYTES = 512 * 1024

export function setOutputs(values: Partial<Outputs>, fullListFile?: () => string): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    if (Array.isArray(value)) {
      const json = JSON.stringify(value)
      if (json.length > MAX_LIST_BYTES) {
        warn(`Output ${name} lists ${value.length} entries, too many for a step output; it is set to [].${fullListFile ? ` The full list is in ${fullListFile()}.` : ''}`)
        core.setOutput(name, '[]')
        continue
      }
      core.setOutput(name, json)
    } else {
      core.setOutput(name, String(value))
    }
  }
}
