import { formatUsd } from '../cost/cost.js'
import type { Manifest } from '../state/manifest.js'
import type { Problem } from '../sources/types.js'

/** What a collected submission came to, for its results artifact and its pull request. */
export interface CollectedSubmission {
  /** The submission's first batch, which names it to users. */
  batchId: string
  batchIds: readonly string[]
  detail: string
  counts: { succeeded: number; errored: number; canceled: number; expired: number }
  cost: number
  files: number
}

// A pull request body has a size limit; the results artifact has every failure.
const MAX_FAILURES_LISTED = 20

/** The Markdown that goes into the results artifact (`summary.md`) and the pull request body. */
export function submissionSummary(manifest: Pick<Manifest, 'run' | 'commit' | 'createdAt'>, s: CollectedSubmission, failures: readonly Problem[]): string {
  const c = s.counts
  const lines = [
    `### Claude batch ${s.batchId}`,
    '',
    s.detail,
    '',
    '| Succeeded | Errored | Canceled | Expired | Cost (batch prices) |',
    '|---|---|---|---|---|',
    `| ${c.succeeded} | ${c.errored} | ${c.canceled} | ${c.expired} | ${formatUsd(s.cost)} |`,
    '',
    `- Batches: ${s.batchIds.map((id) => `\`${id}\``).join(', ')}`,
    `- Submitted by ${manifest.run.url ? `[run ${manifest.run.id}](${manifest.run.url})` : `run ${manifest.run.id}`} (${manifest.run.event || 'unknown event'}) at commit \`${manifest.commit.slice(0, 12) || 'unknown'}\`, ${manifest.createdAt}`,
    `- Files written: ${s.files}`
  ]
  const env = process.env
  if (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY) {
    lines.push(`- Collected by [run ${env.GITHUB_RUN_ID}](${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID})`)
  }
  if (failures.length) {
    lines.push('', `#### Requests that did not succeed (${failures.length})`, '')
    for (const f of failures.slice(0, MAX_FAILURES_LISTED)) lines.push(`- \`${f.file}${f.line ? `:${f.line}` : ''}\`: ${f.message}`)
    if (failures.length > MAX_FAILURES_LISTED) lines.push(`- …and ${failures.length - MAX_FAILURES_LISTED} more, in \`results.jsonl\` of the results artifact.`)
  }
  return lines.join('\n') + '\n'
}
