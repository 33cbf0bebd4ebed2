import * as core from '@actions/core'
import type { Plan } from '../plan/plan.js'
import type { ResultCollector } from '../results/collect.js'
import type { Problem } from '../sources/types.js'
import { annotate, where } from './annotations.js'

/** Every request that errored, expired or was canceled, placed on its source file and line. */
function failedRequests(plan: Plan, collector: ResultCollector): Problem[] {
  const failures: Problem[] = []
  plan.requests.forEach((r, i) => {
    const outcome = collector.outcomeOf(i)
    if (outcome === 'errored' || outcome === 'expired' || outcome === 'canceled') {
      const note = collector.notes.get(i)
      failures.push({ file: r.origin.file, line: r.origin.line, message: `Request ${r.customId} ${outcome}${note ? `: ${note}` : ''}` })
    }
  })
  return failures
}

/**
 * Reports what did not go as planned in the results: the requests that failed (logged, the first
 * few hundred, and annotated on their files) and any result line that matched no planned request.
 * Returns the failures, for summaries.
 */
export function reportResults(plan: Plan, collector: ResultCollector, level: 'error' | 'warning'): Problem[] {
  if (collector.unknownIds) {
    core.warning(`${collector.unknownIds} result line(s) matched no request of this submission; they are kept in the results file only.`)
  }
  const failures = failedRequests(plan, collector)
  if (!failures.length) return failures
  const shown = failures.slice(0, 200).map((f) => `  ${where(f)} ${f.message}`)
  if (failures.length > shown.length) shown.push(`  …and ${failures.length - shown.length} more, in the results file.`)
  core.info(`Requests that did not succeed:\n${shown.join('\n')}`)
  annotate(level, failures, 'Batch request failed')
  return failures
}
