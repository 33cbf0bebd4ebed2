/**
 * Prompt caching in the job summary: what the estimate counted on (the plan) and what the results say
 * (usage's cache fields): tokens read from the cache, and what caching saved after paying for its writes.
 */
import { BATCH_DISCOUNT } from '../cost/prices.js'
import { formatUsd, type CostTally } from '../cost/cost.js'
import type { Estimate } from '../preflight.js'

/** A row of the plan table, or none when nothing is cached. */
export function cachePlanRows(e: Estimate): string[][] {
  const c = e.cache
  if (!c || !c.prefixes) return []
  const saving = c.standardUsd < 0 ? `; saves about ${formatUsd(-c.standardUsd * BATCH_DISCOUNT)} at batch prices` : ''
  const uncounted = c.uncounted ? ` (${c.uncounted} not counted: no saving assumed)` : ''
  return [
    [
      'Prompt cache (estimated)',
      `${number(c.prefixes)} shared prefix${c.prefixes === 1 ? '' : 'es'} with a one-hour cache_control${uncounted}: ${number(c.writeTokens)} tokens written, ${number(c.readTokens)} read${saving}`
    ]
  ]
}

/** A paragraph under the results table, or undefined when no request read or wrote the cache. */
export function cacheResultsNote(c: CostTally): string | undefined {
  if (!c.tokens.cacheRead && !c.tokens.cacheWrite) return undefined
  const saved = c.cacheSavedStandard
  const verdict =
    saved >= 0
      ? `caching saved ${formatUsd(saved * BATCH_DISCOUNT)} at batch prices (${formatUsd(saved)} at standard prices)`
      : `caching cost ${formatUsd(-saved * BATCH_DISCOUNT)} more than it saved (the prefixes were written but read too little)`
  return `<p>Prompt cache: ${number(c.tokens.cacheRead)} input tokens read from the cache, ${number(c.tokens.cacheWrite)} written to it; ${verdict}.</p>`
}

function number(n: number): string {
  return n.toLocaleString('en-US')
}
