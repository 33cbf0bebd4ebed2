import type * as core from '@actions/core'
import type { Distribution } from '../results/data-output.js'

// An enum with dozens of values would make a wide table: the most common are shown, the rest summed.
const SHOWN_VALUES = 8

/**
 * For data files generated with a schema: how the values of each enum and boolean property are
 * spread over the rows, e.g. "billing 41% (41)", one small table per file.
 */
export function addDistributions(summary: typeof core.summary, distributions: readonly Distribution[], escape: (text: string) => string): void {
  if (!distributions.length) return
  summary.addHeading('Values', 3)
  for (const d of distributions) {
    const rows = [...d.properties].map(([property, counts]) => [`<code>${escape(property)}</code>`, describe(counts, d.rows, escape)])
    summary.addRaw(`<p><code>${escape(d.path)}</code>, ${d.rows.toLocaleString('en-US')} rows with a result</p>`, true)
    summary.addTable([
      [
        { data: 'Property', header: true },
        { data: 'Values', header: true }
      ],
      ...rows
    ])
  }
}

/** `billing 41% (41), shipping 33% (33), …` from the most common down. */
export function describe(counts: ReadonlyMap<string, number>, rows: number, escape: (text: string) => string = (t) => t): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  const parts = sorted.slice(0, SHOWN_VALUES).map(([value, n]) => `${escape(value)} ${percent(n, rows)} (${n.toLocaleString('en-US')})`)
  const rest = sorted.slice(SHOWN_VALUES).reduce((sum, [, n]) => sum + n, 0)
  if (rest) parts.push(`others ${percent(rest, rows)} (${rest.toLocaleString('en-US')})`)
  return parts.join(', ') || '—'
}

function percent(n: number, of: number): string {
  return `${of ? Math.round((100 * n) / of) : 0}%`
}
