import * as core from '@actions/core'
import { ConflictError } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import { describeError } from '../anthropic/client.js'
import { collect } from './collect.js'
import { discover, failWith, requireClient } from './common.js'

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

  const ids = inputs.batchId === 'all' ? (await discover(inputs, problems)).candidates.filter((c) => !c.untrusted).map((c) => c.batchId) : [inputs.batchId!]
  if (problems.length) return failWith(problems)
  for (const id of ids) {
    try {
      const batch = await client.messages.batches.cancel(id)
      core.info(`${id}: ${batch.processing_status === 'ended' ? 'had already ended' : 'canceling'}.`)
    } catch (error) {
      if (error instanceof ConflictError) core.info(`${id}: cannot be canceled now (${describeError(error)}).`)
      else throw error
    }
  }
  await collect(inputs, problems, Date.now() + Math.max(inputs.waitMinutes * 60_000, MIN_WAIT_MS))
}
