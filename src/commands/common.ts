import type { Anthropic } from '@anthropic-ai/sdk'
import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import { createClient } from '../anthropic/client.js'
import { annotate, fail, notice, warn } from '../report/annotations.js'
import { artifactServiceAvailable, findPendingArtifacts, findPendingLocal, type ManifestCandidate } from '../state/artifacts.js'
import { esc, info } from '../report/log.js'
import { githubClient } from '../github/octokit.js'

/** What collect, status and cancel share: the client, and the submissions not collected yet. */

// Results are deleted 29 days after a batch is created (batch-api.md §5); warn a week ahead.
export const RESULTS_KEPT_MS = 29 * 24 * 3600_000
export const WARN_BEFORE_MS = 7 * 24 * 3600_000

export function requireClient(inputs: Inputs, problems: Problem[]): Anthropic | undefined {
  if (!inputs.apiKey) {
    problems.push({ message: 'No Anthropic API key: set the anthropic-api-key input or the ANTHROPIC_API_KEY environment variable.' })
    return undefined
  }
  return createClient({ apiKey: inputs.apiKey, baseURL: inputs.baseURL })
}

export interface Find {
  token: string
  owner: string
  repo: string
}

/** The submissions to look at: every pending one of the repository, or the one named by batch-id. */
export async function discover(inputs: Inputs, problems: Problem[]): Promise<{ candidates: ManifestCandidate[]; all: ManifestCandidate[]; find?: Find }> {
  const repository = process.env.GITHUB_REPOSITORY
  let candidates: ManifestCandidate[]
  let find: Find | undefined
  if (artifactServiceAvailable() && repository) {
    if (!inputs.githubToken) {
      problems.push({ message: 'Input github-token: needed to find manifests across workflow runs (with actions: read).' })
      return { candidates: [], all: [] }
    }
    const [owner, repo] = repository.split('/') as [string, string]
    find = { token: inputs.githubToken, owner, repo }
    candidates = await findPendingArtifacts(await githubClient(inputs.githubToken), owner, repo)
  } else {
    warn('The Actions artifact service is not available here (a local run?): looking for manifests in the local folder instead.')
    candidates = await findPendingLocal()
  }
  const all = candidates
  if (inputs.batchId && inputs.batchId !== 'all') {
    // A manifest's name carries its first batch only: any other batch is found by its results' tag.
    candidates = candidates.filter((c) => c.batchId === inputs.batchId)
    if (!candidates.length)
      notice(
        `No pending manifest is named after batch ${esc(inputs.batchId)}: its results' tag finds its record, or, with none, its prompts are read again from this checkout and proved by its result ids before anything is written.`
      )
  }
  info(`${candidates.length} pending submission(s) found.`)
  return { candidates, all, find }
}

export function failWith(problems: Problem[]): void {
  annotate('error', problems)
  fail(problems.map((p) => p.message).join('\n'))
}
