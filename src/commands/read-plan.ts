import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import { readSources } from '../sources/index.js'
import { API_LIMITS, buildPlan, type Limits, type Plan } from '../plan/plan.js'
import { info } from '../report/log.js'
import { tableOf } from '../plan/table.js'

/**
 * Reads the prompt sources named by the inputs into a plan with the given tag: submit does this with a
 * new tag; collect without a manifest does it again from the checkout with the tag the results carry.
 */
export async function readPlan(inputs: Inputs, spoolPath: string, tag: string, problem: (p: Problem) => void, warning: (p: Problem) => void): Promise<Plan> {
  const ctx = {
    workspace: inputs.workspace,
    outputDir: inputs.outputDir,
    defaults: { model: inputs.model, maxTokens: inputs.maxTokens, system: inputs.system },
    problem,
    warning
  }
  const sources = readSources(
    {
      prompts: inputs.prompts,
      promptsIsDefault: inputs.promptsIsDefault,
      data: inputs.data,
      template: inputs.template,
      requests: inputs.requests,
      systemPromptFile: inputs.systemPromptFile,
      schemaFile: inputs.schemaFile
    },
    ctx
  )
  const plan = await buildPlan(sources, { workspace: inputs.workspace, spoolPath, tag, limits: limits(), problem, cache: inputs.cache })
  const files = tableOf(plan.requests)?.fileCount() ?? new Set(plan.requests.map((r) => r.origin.file)).size
  info(`${count(plan.requests.length, 'request')} from ${count(files, 'file')}, in ${count(plan.chunks.length, 'batch', 'batches')}.`)
  return plan
}

// The API's limits, unless a test lowers them to exercise splitting without 100,000 requests.
export function limits(): Limits {
  const requests = Number(process.env.CLAUDE_BATCH_TEST_MAX_REQUESTS)
  const bytes = Number(process.env.CLAUDE_BATCH_TEST_MAX_BYTES)
  return { maxRequests: requests > 0 ? requests : API_LIMITS.maxRequests, maxBytes: bytes > 0 ? bytes : API_LIMITS.maxBytes }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`
}
