import * as core from '@actions/core'
import { formatUsd } from '../cost/cost.js'
import { PRICE_SOURCE } from '../cost/prices.js'
import type { Plan } from '../plan/plan.js'
import type { Estimate } from '../preflight.js'
import type { ResultCollector } from '../results/collect.js'
import type { Problem } from '../sources/types.js'
import { where } from './annotations.js'
import { addDistributions } from './distribution.js'
import { cachePlanRows, cacheResultsNote } from './cache-summary.js'

export interface SummaryInput {
  headline: string
  plan?: Plan
  estimate?: Estimate
  batchIds: string[]
  problems: Problem[]
  warnings: Problem[]
  results?: ResultCollector
  resultsFile?: string
  /** Dry runs list more requests: the plan is the whole point of them. */
  dryRun: boolean
  /** Lock entries whose source is gone. */
  stale?: string[]
}

// Large runs would make the summary unreadable (and GitHub caps it at 1 MiB): the table shows the
// failures first, then requests in plan order, up to this many rows.
const MAX_ROWS = 100
const MAX_ROWS_DRY_RUN = 500

/** Writes the job summary: what was planned, what it cost or will cost, and what became of each request. */
export async function writeSummary(s: SummaryInput): Promise<void> {
  const summary = core.summary.addHeading('Claude batch', 2).addRaw(`<p><strong>${escape(s.headline)}</strong></p>`, true)

  if (s.problems.length) {
    summary.addHeading(`Problems (${s.problems.length})`, 3).addList(s.problems.slice(0, MAX_ROWS).map(describe))
    if (s.problems.length > MAX_ROWS) summary.addRaw(`<p>…and ${s.problems.length - MAX_ROWS} more.</p>`, true)
  }
  if (s.warnings.length) summary.addHeading('Warnings', 3).addList(s.warnings.slice(0, MAX_ROWS).map(describe))
  if (s.stale?.length) {
    summary
      .addHeading(`Stale lock entries (${s.stale.length})`, 3)
      .addRaw('<p>Their prompt file or data row is gone; <code>prune: true</code> deletes these outputs and entries.</p>', true)
      .addList(s.stale.slice(0, MAX_ROWS).map((k) => `<code>${escape(k)}</code>`))
    if (s.stale.length > MAX_ROWS) summary.addRaw(`<p>…and ${s.stale.length - MAX_ROWS} more.</p>`, true)
  }

  if (s.plan && s.estimate) {
    const e = s.estimate
    const models = [...new Set(s.plan.requests.map((r) => r.model))]
    const rows: string[][] = [
      ['Requests', number(e.requests)],
      ['Batches', s.batchIds.length ? s.batchIds.map((id) => `<code>${id}</code>`).join('<br>') : number(s.plan.chunks.length)],
      ['Models', models.map((m) => `<code>${escape(m)}</code>`).join(', ')],
      ['Input tokens (estimated)', `${number(e.inputTokens)} (${escape(e.method)})`],
      ['Output tokens (at most)', number(e.maxOutputTokens)],
      [
        'Estimated cost (at most)',
        e.batchUsd === undefined
          ? `unknown: no price for ${escape(e.unpriced.join(', '))} (set model-prices)`
          : `${formatUsd(e.batchUsd)} at batch prices (${formatUsd(e.standardUsd!)} at standard prices)`
      ],
      ...cachePlanRows(e)
    ]
    summary.addHeading('Plan', 3).addTable(rows.map(([k, v]) => [th(k!), v!]))
  }

  const r = s.results
  if (r && r.written.size + Object.values(r.counts).reduce((a, b) => a + b, 0) > 0) {
    const c = r.costs
    const saved = c.standard - c.batch
    summary.addHeading('Results', 3).addTable([
      [th('Succeeded'), th('Errored'), th('Canceled'), th('Expired'), th('Input tokens'), th('Output tokens'), th('Cost (batch)'), th('At standard prices')],
      [
        number(r.counts.succeeded),
        number(r.counts.errored),
        number(r.counts.canceled),
        number(r.counts.expired),
        number(c.tokens.input + c.tokens.cacheRead + c.tokens.cacheWrite),
        number(c.tokens.output),
        formatUsd(c.batch),
        `${formatUsd(c.standard)} (saved ${formatUsd(saved)})`
      ]
    ])
    const cache = cacheResultsNote(c)
    if (cache) summary.addRaw(cache, true)
    if (c.unpriced.size) summary.addRaw(`<p>No price known for ${escape([...c.unpriced].join(', '))}: their tokens are not in the cost.</p>`, true)
    if (r.truncated) summary.addRaw(`<p>${r.truncated} response(s) were cut off at max_tokens.</p>`, true)
    if (s.resultsFile) summary.addRaw(`<p>Raw results: <code>${escape(s.resultsFile)}</code></p>`, true)
    addDistributions(summary, r.distributions, escape)
  }

  if (s.plan && s.plan.requests.length && !s.problems.length) addRequestTable(summary, s)
  summary.addRaw(`<p><sub>Prices: ${escape(PRICE_SOURCE)}</sub></p>`, true)
  await summary.write()
}

function addRequestTable(summary: typeof core.summary, s: SummaryInput): void {
  const { plan, results } = s
  const max = s.dryRun ? MAX_ROWS_DRY_RUN : MAX_ROWS
  const order = plan!.requests.map((_, i) => i)
  // Failures are what a reader looks for, so they come first.
  if (results) order.sort((a, b) => rank(results.outcomeOf(a)) - rank(results.outcomeOf(b)) || a - b)
  const rows = order.slice(0, max).map((i) => {
    const req = plan!.requests[i]!
    const row = [`<code>${req.customId}</code>`, escape(where(req.origin)), escape(req.output?.path ?? '—')]
    if (s.dryRun) row.push(`<code>${escape(req.model)}</code>`, number(req.maxTokens))
    if (results) row.push(escape([results.outcomeOf(i), results.notes.get(i)].filter(Boolean).join(': ')))
    return row
  })
  const head = [th('custom_id'), th('Source'), th('Output')]
  if (s.dryRun) head.push(th('Model'), th('max_tokens'))
  if (results) head.push(th('Result'))
  summary.addHeading('Requests', 3).addTable([head, ...rows])
  if (order.length > max) summary.addRaw(`<p>Showing ${max} of ${number(order.length)} requests; every result is in the results file.</p>`, true)
}

function rank(outcome: string): number {
  return ['errored', 'expired', 'canceled', 'pending', 'succeeded'].indexOf(outcome)
}

function describe(p: Problem): string {
  const at = where(p)
  return at ? `<code>${escape(at)}</code>: ${escape(p.message)}` : escape(p.message)
}

function th(data: string) {
  return { data, header: true }
}

function number(n: number): string {
  return n.toLocaleString('en-US')
}

/**
 * Escapes text for the HTML the job summary is made of. Line breaks too: the summary is Markdown, where
 * a blank line ends an HTML block and what follows (a link, an image, a heading) would be rendered.
 */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;')
}
