import * as core from '@actions/core'
import { formatUsd } from '../cost/cost.js'
import { BATCH_DISCOUNT, baseModelId, PRICE_SOURCE, priceFor, type PriceOverrides } from '../cost/prices.js'
import type { Plan } from '../plan/plan.js'
import { columnsOf } from '../plan/table.js'
import type { Estimate } from '../preflight.js'
import type { ResultCollector } from '../results/collect.js'
import type { Problem } from '../sources/types.js'
import type { Annotation } from './annotations.js'
import { escape, table } from './html.js'
import { artifactLink, sourceLink } from './links.js'
import { writeJobSummary } from './summary-file.js'

export { escape }
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
  /**
   * Where the raw results are, in words a reader can use after the job: an artifact's name and the
   * path inside it, or that the file lives only as long as the job (never a bare runner-temp path).
   */
  resultsKept?: string
  /** Dry runs list more requests: the plan is the whole point of them. */
  dryRun: boolean
  /** Lock entries whose source is gone. */
  stale?: string[]
  /** The model-prices input, so the prices shown are the ones used. */
  prices?: PriceOverrides
  /** Artifacts this step kept (the manifest, say), linked by id when known. */
  artifacts?: { name: string; id?: number }[]
}

// Large runs would make the summary unreadable (and GitHub caps it at 1 MiB): the table shows the
// failures first, then requests in plan order, up to this many rows (folded past 20).
const MAX_ROWS = 100
const MAX_ROWS_DRY_RUN = 500

/** Writes the job summary: what was planned, what it cost or will cost, and what became of each request. */
export async function writeSummary(s: SummaryInput): Promise<void> {
  const summary = core.summary.addHeading('Claude batch', 2).addRaw(`<p><strong>${escape(s.headline)}</strong></p>`, true)

  if (s.problems.length) summary.addHeading(`Problems (${s.problems.length})`, 3).addRaw(problemTable(s.problems, 'problems'), true)
  if (s.warnings.length) summary.addHeading(`Warnings (${s.warnings.length})`, 3).addRaw(problemTable(s.warnings, 'warnings'), true)
  if (s.stale?.length) {
    const keys = s.stale.slice(0, MAX_ROWS).map((k) => [`<code>${escape(k)}</code>`])
    summary
      .addHeading(`Stale lock entries (${s.stale.length})`, 3)
      .addRaw('<p>Their prompt file or data row is gone; <code>prune: true</code> deletes these outputs and entries.</p>', true)
      .addRaw(table(['Lock entry'], keys, `${s.stale.length} stale lock entries`), true)
    if (s.stale.length > MAX_ROWS) summary.addRaw(`<p>…and ${s.stale.length - MAX_ROWS} more.</p>`, true)
  }

  if (s.plan && (s.estimate || s.results)) summary.addHeading('Cost', 3).addRaw(costTable(s), true)
  const r = s.results
  if (r && r.written.size + Object.values(r.counts).reduce((a, b) => a + b, 0) > 0) {
    summary
      .addHeading('Results', 3)
      .addRaw(
        table(
          ['Succeeded', 'Errored', 'Canceled', 'Expired', 'Files written'],
          [[r.counts.succeeded, r.counts.errored, r.counts.canceled, r.counts.expired, r.written.size].map(number)],
          'results'
        ),
        true
      )
    if (r.costs.unpriced.size)
      summary.addRaw(
        `<p>No price known for ${[...r.costs.unpriced].map((m) => `<code>${escape(m)}</code>`).join(', ')}: their tokens are not in the cost (set model-prices).</p>`,
        true
      )
    if (r.truncated) summary.addRaw(`<p>${r.truncated} response(s) were cut off at max_tokens.</p>`, true)
    const cache = cacheResultsNote(r.costs)
    if (cache) summary.addRaw(cache, true)
    if (s.resultsKept) summary.addRaw(`<p>Raw results: ${s.resultsKept}</p>`, true)
    addDistributions(summary, r.distributions, escape)
  }
  if (s.batchIds.length) summary.addRaw(`<p>Batches: ${s.batchIds.map((id) => `<code>${escape(id)}</code>`).join(', ')}</p>`, true)
  if (s.artifacts?.length) summary.addRaw(`<p>Kept as artifacts: ${s.artifacts.map((a) => artifactLink(a.name, a.id)).join(', ')}</p>`, true)

  if (s.plan && s.plan.requests.length && !s.problems.length) addRequestTable(summary, s)
  if (s.plan?.requests.length) summary.addRaw(priceNote(s.plan, s.prices ?? {}), true)
  await writeJobSummary(summary)
}

/**
 * The estimate (made before anything was spent) beside what the results cost, row by row, with the
 * tokens per request: what a reader checks to tune max_tokens and max-cost.
 */
function costTable(s: SummaryInput): string {
  const e = s.estimate
  const r = s.results
  const c = r?.costs
  const answered = r ? r.counts.succeeded : 0
  const input = c ? c.tokens.input + c.tokens.cacheRead + c.tokens.cacheWrite : 0
  const per = (total: number, n: number) => (n ? number(Math.round(total / n)) : '—')
  const estCost = !e ? '—' : e.batchUsd === undefined ? `unknown: no price for ${e.unpriced.map(escape).join(', ')} (set model-prices)` : `at most ${formatUsd(e.batchUsd)}`
  const rows: [string, string, string][] = [
    ['Requests', e ? number(e.requests) : '—', r ? `${number(answered)} succeeded` : '—'],
    ['Input tokens', e ? `${number(e.inputTokens)} (${escape(e.method)})` : '—', c ? number(input) : '—'],
    ['Output tokens', e ? `at most ${number(e.maxOutputTokens)}` : '—', c ? number(c.tokens.output) : '—'],
    ['Input tokens per request', e ? per(e.inputTokens, e.requests) : '—', c ? per(input, answered) : '—'],
    ['Output tokens per request', e ? `at most ${per(e.maxOutputTokens, e.requests)}` : '—', c ? per(c.tokens.output, answered) : '—'],
    ['Cost at batch prices', estCost, c ? formatUsd(c.batch) : '—'],
    [
      'At standard prices',
      e?.standardUsd !== undefined ? `at most ${formatUsd(e.standardUsd)}` : '—',
      c ? `${formatUsd(c.standard)} (saved ${formatUsd(c.standard - c.batch)})` : '—'
    ],
    // The cache's share of the estimate; the actual reads and writes are in the note under the results.
    ...(e ? cachePlanRows(e).map(([k, v]): [string, string, string] => [k!, v!, '—']) : [])
  ]
  const head = ['', 'Estimated before sending', r ? 'Actual' : 'Actual (no results yet)']
  return table(
    head,
    rows.map(([k, a, b]) => [`<strong>${k}</strong>`, a, b]),
    'cost'
  )
}

/** The prices of the models this run used, and nothing of the others. */
function priceNote(plan: Plan, overrides: PriceOverrides): string {
  const col = columnsOf(plan.requests)
  const used = new Set<string>()
  for (let i = 0; i < plan.requests.length; i++) used.add(col.model(i))
  const models = [...used].sort()
  const usd = (perMillion: number) => `$${(perMillion * BATCH_DISCOUNT).toFixed(4).replace(/0{1,2}$/, '')}`
  const rows = models.map((m) => {
    const price = priceFor(m, overrides)
    const from = overrides[baseModelId(m)] || overrides[m] ? 'model-prices input' : price ? 'price table' : '—'
    return price
      ? [`<code>${escape(m)}</code>`, usd(price.input), usd(price.output), usd(price.cacheRead), usd(price.cacheWrite5m), from]
      : [`<code>${escape(m)}</code>`, 'unknown', 'unknown', 'unknown', 'unknown', 'set model-prices']
  })
  const head = ['Model', 'Input', 'Output', 'Cache read', 'Cache write (5 min)', 'Price from']
  const tableUsed = models.some((m) => priceFor(m, overrides) && !(overrides[baseModelId(m)] || overrides[m]))
  const source = tableUsed ? `<p><sub>Price table: ${escape(sourceFor(models))}</sub></p>` : ''
  return `<h3>Prices</h3>\n<p>Batch prices in USD per million tokens, for the models of this run.</p>\n${table(head, rows, `${models.length} models`)}\n${source}`
}

/**
 * PRICE_SOURCE, less its clauses about models this run did not use ("Fable 5.2 and Haiku 5.5 from
 * third-party reports" matters only to a run of those models).
 */
export function sourceFor(models: readonly string[], text: string = PRICE_SOURCE): string {
  const names = models.map((m) => displayName(baseModelId(m)).toLowerCase())
  const clauses = text.split(/(?<=[;.])\s+/)
  const kept = clauses.filter((clause, i) => {
    if (i === 0) return true
    const mentions = [...clause.matchAll(/\b([A-Z][a-z]+ \d+(?:\.\d+)?)\b/g)].map((m) => m[1]!.toLowerCase())
    return !mentions.length || mentions.some((n) => names.includes(n))
  })
  // A clause cut after its semicolon ends its sentence.
  return kept.join(' ').replace(/;(?=\s+[A-Z]|$)/g, '.')
}

/** `claude-fable-5-2` → `Fable 5.2`: how PRICE_SOURCE names models. */
function displayName(id: string): string {
  const m = /^claude-([a-z]+)-(\d+(?:-\d+)?)$/.exec(id)
  if (!m) return id
  return `${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)} ${m[2]!.replace('-', '.')}`
}

function problemTable(items: readonly Problem[], what: string): string {
  const rows = items.slice(0, MAX_ROWS).map((p) => [sourceLink(p.file, p.line) || '—', escape(p.message)])
  const more = items.length > MAX_ROWS ? `<p>…and ${items.length - MAX_ROWS} more.</p>` : ''
  return table(['Where', 'What'], rows, `${items.length} ${what}`) + more
}

function addRequestTable(summary: typeof core.summary, s: SummaryInput): void {
  const { plan, results } = s
  const max = s.dryRun ? MAX_ROWS_DRY_RUN : MAX_ROWS
  const total = plan!.requests.length
  // Failures are what a reader looks for, so they come first: the first `max` by outcome, found in
  // one pass per outcome rather than by sorting every request.
  const order: number[] = []
  if (results) {
    for (let want = 0; want < RANKS.length; want++) for (let i = 0; i < total && order.length < max; i++) if (rank(results.outcomeOf(i)) === want) order.push(i)
  } else for (let i = 0; i < Math.min(total, max); i++) order.push(i)
  const rows = order.map((i) => {
    const req = plan!.requests[i]!
    const row = [`<code>${escape(req.customId)}</code>`, sourceLink(req.origin.file, req.origin.line) || '—', escape(req.output?.path ?? '—')]
    if (s.dryRun) row.push(`<code>${escape(req.model)}</code>`, number(req.maxTokens))
    if (results) row.push(escape([results.outcomeOf(i), results.notes.get(i)].filter(Boolean).join(': ')))
    return row
  })
  const head = ['custom_id', 'Source', 'Output']
  if (s.dryRun) head.push('Model', 'max_tokens')
  if (results) head.push('Result')
  summary.addHeading(`Requests (${number(total)})`, 3).addRaw(table(head, rows, `${number(total)} requests`), true)
  if (total > max) summary.addRaw(`<p>Showing ${max} of ${number(total)} requests; every result is in the results file.</p>`, true)
}

/**
 * Appended at the end of the step when GitHub will not show every annotation: the closing
 * "…and N more" annotation points here.
 */
export async function writeAnnotationList(all: readonly Annotation[]): Promise<void> {
  const rows = all.map((a) => [a.failure ? 'error (step failed)' : a.level, sourceLink(a.file, a.line) || '—', escape(a.title ?? ''), escape(a.message)])
  const html = table(['Level', 'Where', 'Title', 'Message'], rows, `${all.length} annotations`)
  await writeJobSummary(
    core.summary
      .addHeading(`Every annotation (${all.length})`, 3)
      .addRaw('<p>GitHub shows only 10 of each level in a step; here are all of them, most useful first.</p>', true)
      .addRaw(html, true)
  )
}

const RANKS = ['errored', 'expired', 'canceled', 'pending', 'succeeded']

function rank(outcome: string): number {
  return RANKS.indexOf(outcome)
}

function number(n: number): string {
  return n.toLocaleString('en-US')
}
