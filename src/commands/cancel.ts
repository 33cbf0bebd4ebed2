import { ConflictError } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import { describeError } from '../anthropic/client.js'
import { collect } from './collect.js'
import { discover, failWith, requireClient } from './common.js'
import { downloadManifest } from '../state/artifacts.js'
import { planFromManifest } from '../state/manifest.js'
import { reconcile } from '../state/journal.js'
import { withRetry } from '../anthropic/retry.js'
import type { Anthropic } from '@anthropic-ai/sdk'
import { info } from '../report/log.js'
import { warn } from '../report/annotations.js'

// A canceled batch ends once its in-flight requests finish, usually within a minute.
const MIN_WAIT_MS = 2 * 60_000

/**
 * cancel: cancels the batch named by batch-id, or every pending one with `batch-id: all`, then
 * collects what finished before the cancel, as collect does.
 */
export async function cancel(inputs: Inputs, problems: Problem[]): Promise<void> {
  if (!inputs.batchId) problems.push({ message: 'Input batch-id: name the batch to cancel, or write "all" to cancel every pending batch.' })
  const client = requireClient(inputs, problems)
  if (!client || problems.length) return failWith(problems)

  const ids = inputs.batchId === 'all' ? await ownBatches(client, inputs, problems) : [inputs.batchId!]
  if (problems.length) return failWith(problems)
  for (const id of ids) {
    try {
      // Canceling twice is harmless, so a lost answer is simply asked again.
      const batch = await withRetry(`cancel ${id}`, (o) => client.messages.batches.cancel(id, {}, { ...o, maxRetries: 0 }))
      info(`${id}: ${batch.processing_status === 'ended' ? 'had already ended' : 'canceling'}.`)
    } catch (error) {
      if (error instanceof ConflictError) info(`${id}: cannot be canceled now (${describeError(error)}).`)
      else throw error
    }
  }
  await collect(inputs, problems, { waitUntil: Date.now() + Math.max(inputs.waitMinutes * 60_000, MIN_WAIT_MS) })
}

/**
 * Every batch the repository's pending records prove its own. A batch found in the list after a lost
 * create is not canceled: it may be someone else's, and canceling it would be worse than letting it run.
 */
async function ownBatches(client: Anthropic, inputs: Inputs, problems: Problem[]): Promise<string[]> {
  const { candidates, find } = await discover(inputs, problems)
  const ids: string[] = []
  for (const candidate of candidates.filter((c) => !c.untrusted)) {
    // One record that cannot be read must not keep the others' batches running (and billing).
    try {
      const { manifest } = await planFromManifest(await downloadManifest(candidate, find), inputs.workspace)
      // An unfinished record's batches are found in the API's list (reconcile finds none for a complete one).
      for (const b of [...manifest.batches, ...(await reconcile(client, manifest))]) {
        if (b.verified) ids.push(b.id)
        else
          warn(
            `${b.id} may belong to ${candidate.name} (it was found in the batch list, not answered by create), but that is not proved, so it was not canceled: cancel it with batch-id: ${b.id} if it is this repository's.`
          )
      }
    } catch (error) {
      warn(`Could not read ${candidate.name} (${describeError(error)}); its batches were not canceled. Cancel them by batch-id.`)
    }
  }
  return [...new Set(ids)]
}
