import type { Plan } from '../plan/plan.js'
import type { ResultCollector } from '../results/collect.js'
import type { Problem } from '../sources/types.js'
import { annotate, where } from './annotations.js'
import { esc, info } from './log.js'

/** Every request that errored, expired or was canceled, placed on its source file and line. */
export function failedRequests(plan: Plan, collector: ResultCollector, canceledOnPurpose: boolean): Problem[] {
  const failures: Problem[] = []
  plan.requests.forEach((r, i) => {
    const outcome = collector.outcomeOf(i)
    if (outcome === 'errored' || outcome === 'expired' || (outcome === 'canceled' && !canceledOnPurpose)) {
      const note = collector.notes.get(i)
      failures.push({ file: r.origin.file, line: r.origin.line, message: `Request ${r.customId} ${outcome}${note ? `: ${esc(note)}` : ''}` })
    }
  })
  return failures
}

/**
 * Reports what did not go as planned in the results: the requests that failed (logged, the first
 * few hundred, and annotated on their files). A result line that matches no planned request never
 * gets this far: the collector refuses the whole batch.
 * Requests canceled by `command: cancel` are what was asked for: not failures, not annotated.
 * Returns the failures, for summaries.
 */
export function reportResults(plan: Plan, collector: ResultCollector, level: 'error' | 'warning', options: { canceledOnPurpose?: boolean } = {}): Problem[] {
  if (options.canceledOnPurpose && collector.counts.canceled) info(`${collector.counts.canceled} request(s) were canceled, as asked.`)
  const failures = failedRequests(plan, collector, !!options.canceledOnPurpose)
  if (!failures.length) return failures
  // One info call a line: a file name holding a line break must not start a line of its own.
  info('Requests that did not succeed:')
  for (const f of failures.slice(0, 200)) info(`  ${where(f)} ${f.message}`)
  if (failures.length > 200) info(`  …and ${failures.length - 200} more, in the results file.`)
  annotate(level, failures, 'Batch request failed')
  return failures
}
