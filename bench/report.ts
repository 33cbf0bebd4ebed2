/**
 * bench/results.md: what was measured, on what, and against which target. Every number in it comes from the run
 * that wrote it; a target not met gets a "not met" line with the measured number, for the reason to be added.
 */
import type { ColdStart } from './cold-start.js'
import type { Machine } from './machine.js'
import type { Sample } from './paths.js'
import type { PollCount } from './polls.js'
import { count, mb, median, ratio, seconds } from './stats.js'

export interface Pair {
  action: Sample[]
  floor: Sample[]
}

export interface Results {
  note: string
  date: string
  machine: Machine
  sizes: number[]
  reps: number
  durationMs: number
  load: { start: string; end: string }
  /** `${path}@${size}` → samples; paths: prompt, lock, data, collect. */
  pairs: Map<string, Pair>
  million?: { rows: number; pair: Pair }
  polls: PollCount
  cold: ColdStart
}

const RATIO_TARGET = 1.5
const RATIO_SIZE = 100_000
const GROWTH_TARGET_MB = 64
const MILLION_TARGET_MB = 300
const COLD_TARGET_MS = 250
const POLL_TARGET = 300
const LOCK_TARGET_MS = 5_000

const phaseOf = (samples: Sample[], phase: string) => median(samples.map((s) => s.phases[phase]!))
const rssOf = (samples: Sample[]) => median(samples.map((s) => s.peakRss))
const yes = (ok: boolean) => (ok ? 'yes' : '**no**')

// Rows of the main table: which path and phase, and the label the issue uses.
const ROWS: Array<{ path: string; phase: string; label: string; rss: boolean }> = [
  { path: 'prompt', phase: 'read', label: 'prompt files: read + plan', rss: false },
  { path: 'prompt', phase: 'submit', label: 'prompt files: submit', rss: false },
  { path: 'prompt', phase: 'write', label: 'prompt files: wait + write', rss: false },
  { path: 'prompt', phase: 'round', label: 'prompt files: whole round', rss: true },
  { path: 'data', phase: 'round', label: 'data CSV + template → CSV', rss: true },
  { path: 'collect', phase: 'collect', label: '`collect` from a manifest', rss: true }
]

export function renderResults(r: Results): string {
  const notMet: string[] = []
  const out: string[] = []
  const m = r.machine
  out.push('# Benchmark results', '')
  if (r.note) out.push(`> ${r.note}`, '')
  out.push(
    `Written by \`npm run bench\` (bench/main.ts) on ${r.date}, in ${seconds(r.durationMs)}: sizes ${r.sizes.map(count).join(', ')}, ${r.reps} repetition(s) each, medians shown.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(1)} GB memory; ${m.os}. Load average (1 min) ${r.load.start} at the start, ${r.load.end} at the end.`,
    `- Node ${m.node}; ${m.packages.map(([p, v]) => `${p} ${v}`).join(', ')}.`,
    `- Measured: dist/index.js (sha256 ${m.dist}…) at commit ${m.commit}, against the Batch API simulator (test/support/simulator.ts) on loopback, batches ending at once.`,
    ''
  )

  out.push('## Phases beside their floors', '')
  out.push('| Phase | Size | Action (median) | Floor (median) | Ratio | Peak RSS | Target | Met? |', '|---|---:|---:|---:|---:|---:|---|---|')
  for (const row of ROWS) {
    for (const size of r.sizes) {
      const pair = r.pairs.get(`${row.path}@${size}`)
      if (!pair) continue
      const a = phaseOf(pair.action, row.phase)
      const f = phaseOf(pair.floor, row.phase)
      const judged = size === RATIO_SIZE
      const met = a / f <= RATIO_TARGET
      if (judged && !met) notMet.push(`${row.label} at ${count(size)}: ${ratio(a, f)} its floor (${seconds(a)} against ${seconds(f)})`)
      out.push(
        `| ${row.label} | ${count(size)} | ${seconds(a)} | ${seconds(f)} | ${ratio(a, f)} | ${row.rss ? mb(rssOf(pair.action)) : ''} | ${judged ? `≤ ${RATIO_TARGET}×` : ''} | ${judged ? yes(met) : ''} |`
      )
    }
  }
  if (!r.sizes.includes(RATIO_SIZE)) out.push('', `Ratios are judged at ${count(RATIO_SIZE)} requests, which this run did not measure.`)
  out.push(
    '',
    'Phases of the action are cut at its log groups, timed by the benchmark as each line arrives: read + plan from "Reading prompts" to "Checking models and estimating cost" (so it includes the lock-file check of a first run), submit from there to "Waiting up to" (models, count_tokens on a sample, journal, creates, manifest), wait + write from there to the process exit. Whole round and collect: spawn to exit. Peak RSS is the child\'s own `process.resourceUsage().maxRSS` (bench/rss-preload.mjs); the floors\' peaks follow the next paragraph.',
    '',
    'The floors (bench/floor.ts, a child process each, against its own fresh simulator): read + plan lists the prompt files, reads them 64 at a time and spools one request line each; submit posts the same JSON (one create per 100,000); wait + write reads the status once, streams the results and writes each output file 64 at a time plus the raw results file; the data floor parses the CSV (csv-parse), fills the template, and writes the CSV again with an output column (csv-stringify); the collect floor reads the manifest the action left and writes the same files. No floor counts tokens, checks models, writes a lock, a journal or a summary.',
    ''
  )
  const floorRss: string[] = []
  for (const row of ROWS.filter((x) => x.rss))
    for (const size of r.sizes) {
      const pair = r.pairs.get(`${row.path}@${size}`)
      if (pair) floorRss.push(`${row.label} at ${count(size)}: ${mb(rssOf(pair.floor))}`)
    }
  if (floorRss.length) out.push(`Floor peak RSS: ${floorRss.join('; ')}.`, '')

  out.push('## Memory growth from 10,000 to 100,000 requests', '')
  for (const [path, label, judged] of [
    ['prompt', 'prompt files (whole round)', true],
    ['data', 'data path (whole round)', true],
    ['collect', '`collect`', false]
  ] as const) {
    const small = r.pairs.get(`${path}@10000`)
    const large = r.pairs.get(`${path}@100000`)
    if (!small || !large) {
      out.push(`- ${label}: not measured (this run's sizes: ${r.sizes.map(count).join(', ')}).`)
      continue
    }
    const growth = rssOf(large.action) - rssOf(small.action)
    const met = growth <= GROWTH_TARGET_MB * 2 ** 20
    if (judged && !met) notMet.push(`peak memory of the ${label} grows ${mb(growth)} from 10,000 to 100,000 (${mb(rssOf(small.action))} → ${mb(rssOf(large.action))})`)
    out.push(
      `- ${label}: ${mb(rssOf(small.action))} → ${mb(rssOf(large.action))}, growth ${mb(growth)}${judged ? ` (target ≤ ${GROWTH_TARGET_MB} MB: ${met ? 'met' : '**not met**'})` : ''}; floor ${mb(rssOf(small.floor))} → ${mb(rssOf(large.floor))}.`
    )
  }
  out.push('')

  out.push('## A million rows, planned and split (dry run)', '')
  if (!r.million) out.push('Not measured in this run (BENCH_SKIP_MILLION).')
  else {
    const { rows, pair } = r.million
    const a = pair.action
    const rss = rssOf(a)
    const batches = a[0]!.notes!.batches as number
    const creates = Math.max(...a.map((s) => s.notes!.creates as number))
    const met = rss < MILLION_TARGET_MB * 2 ** 20 && batches === Math.ceil(rows / 100_000)
    if (!met) notMet.push(`${count(rows)} rows planned in ${count(batches)} batches with a peak RSS of ${mb(rss)}`)
    out.push(
      `${count(rows)}-row CSV with a template, \`dry-run: true\`, ${a.length} repetition(s): ${seconds(phaseOf(a, 'plan'))} spawn to exit, peak RSS **${mb(rss)}** (target < ${MILLION_TARGET_MB} MB: ${met ? 'met' : '**not met**'}), planned in ${count(batches)} batches, ${creates} creates sent. Floor (parse, fill the template, spool, cut into ${pair.floor[0]!.notes!.batches} batches): ${seconds(phaseOf(pair.floor, 'plan'))}, peak RSS ${mb(rssOf(pair.floor))}.`
    )
  }
  out.push('')

  out.push('## Pay once: the lock-file check over unchanged files', '')
  out.push(
    'The action run again over the checkout it has just generated: every prompt file unchanged, so nothing may be sent. The simulator counts every call it receives. Floor: read every prompt file 64 at a time, hash it (sha256) and read the lock file.',
    ''
  )
  out.push('| Files | Action (median, spawn to exit) | Floor (median) | Ratio | API calls | Peak RSS | Target | Met? |', '|---:|---:|---:|---:|---:|---:|---|---|')
  for (const size of r.sizes) {
    const pair = r.pairs.get(`lock@${size}`)
    if (!pair) continue
    const a = phaseOf(pair.action, 'check')
    const f = phaseOf(pair.floor, 'check')
    const calls = Math.max(...pair.action.map((s) => s.notes!.apiCalls as number))
    const judged = size === RATIO_SIZE
    const met = calls === 0 && a <= LOCK_TARGET_MS
    if (judged && !met) notMet.push(`lock-file check over ${count(size)} unchanged files: ${seconds(a)}, ${calls} API calls`)
    out.push(
      `| ${count(size)} | ${seconds(a)} | ${seconds(f)} | ${ratio(a, f)} | ${calls} | ${mb(rssOf(pair.action))} | ${judged ? `0 calls, ≤ ${seconds(LOCK_TARGET_MS)}` : '0 calls'} | ${judged ? yes(met) : yes(calls === 0)} |`
    )
  }
  out.push('')

  out.push('## Status calls during a 6-hour wait', '')
  const p = r.polls
  const pollsMet = p.calls < POLL_TARGET
  if (!pollsMet) notMet.push(`${count(p.calls)} status calls in a 6-hour wait with the default inputs`)
  out.push(
    `The action's wait loop (waitForBatches, src/anthropic/wait.ts) with the default \`poll-interval-seconds\` (${p.defaultSeconds}) and a 6-hour deadline, against the simulator, both on a fake clock that each pause moves forward (no real waiting); the batch is still running at the end. **${count(p.calls)} status calls** (target < ${POLL_TARGET}: ${pollsMet ? 'met' : '**not met**'}): ${p.firstMinute} in the first minute, ${p.firstHour} in the first hour; a batch that ends at 1 min is seen at ${seconds(p.seenAfterOneMinuteMs)}.`,
    ''
  )

  out.push('## Cold start', '')
  const c = r.cold
  const coldMet = c.actionMs < COLD_TARGET_MS
  if (!coldMet) notMet.push(`cold start ${seconds(c.actionMs)}`)
  out.push(
    `dist/index.js from spawn to its first line of output, with \`command: bogus\` (the inputs are read and the step fails at once: the main bundle is loaded and evaluated, no lazy chunk, no call). Median of ${c.runs} runs (tinybench, after 2 warm-up runs): **${seconds(c.actionMs)}** (target < ${COLD_TARGET_MS} ms: ${coldMet ? 'met' : '**not met**'}); to exit ${seconds(c.actionExitMs)}. Floor, Node starting and printing a line: ${seconds(c.floorMs)}.`,
    ''
  )

  out.push('## Targets not met', '')
  if (!notMet.length) out.push('None: every target measured in this run is met.')
  for (const line of notMet) out.push(`- not met: ${line}. Reason: _to be filled in_.`)
  out.push('')
  return out.join('\n')
}
