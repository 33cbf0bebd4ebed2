/**
 * `npm run bench`: the action against the Batch API simulator at 1,000, 10,000 and 100,000 requests, every phase
 * beside its floor measured in the same run, and bench/results.md written from what was measured.
 *
 * Knobs (environment):
 *   BENCH_SIZES        comma-separated request counts (default 1000,10000,100000)
 *   BENCH_REPS         repetitions of each measurement (default 3); medians are reported
 *   BENCH_SKIP_MILLION set to skip the 1,000,000-row dry run
 *   BENCH_MILLION_ROWS rows of that dataset (default 1000000)
 *   BENCH_MILLION_REPS repetitions of it (default 1: the longest single run, there for its memory ceiling)
 *   BENCH_COLD_RUNS    cold-start runs (default 15)
 *   BENCH_OUT          where the results go (default bench/results.md)
 *   BENCH_NOTE         a line shown at the top of the results (e.g. "partial run on a busy machine")
 *
 * It measures dist/index.js as it is: run `npm run package` first to measure the current source.
 * Repetitions are not handed to tinybench: one run of the action yields several phases and its peak memory, the
 * action and its floor alternate within a repetition so that the machine's state falls on both alike, and each
 * run lasts seconds to minutes. tinybench times the cold start (cold-start.ts), where those reasons do not apply.
 */
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { ROOT } from '../test/support/run-action.js'
import { coldStart } from './cold-start.js'
import { makeDataWorkspace, makePromptWorkspace } from './inputs.js'
import { load, machine } from './machine.js'
import * as paths from './paths.js'
import { statusCallsInSixHours } from './polls.js'
import { renderResults, type Pair, type Results } from './report.js'
import { seconds } from './stats.js'

function positiveIntegers(name: string, fallback: string): number[] {
  const raw = process.env[name] || fallback
  const values = raw.split(',').map((s) => Number(s.trim()))
  if (!values.length || values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`${name} must be positive integers separated by commas, got "${raw}"`)
  return values
}

const sizes = positiveIntegers('BENCH_SIZES', '1000,10000,100000')
const [reps] = positiveIntegers('BENCH_REPS', '3')
const [millionRows] = positiveIntegers('BENCH_MILLION_ROWS', '1000000')
const [coldRuns] = positiveIntegers('BENCH_COLD_RUNS', '15')
const skipMillion = Boolean(process.env.BENCH_SKIP_MILLION)
const out = path.resolve(process.env.BENCH_OUT || path.join(ROOT, 'bench', 'results.md'))

const started = performance.now()
const log = (line: string) => console.log(`[${seconds(performance.now() - started).padStart(9)}] ${line}`)
const pairs = new Map<string, Pair>()
const pairOf = (key: string) => pairs.get(key) ?? (pairs.set(key, { action: [], floor: [] }).get(key) as Pair)
const workspaces: string[] = []

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const t = performance.now()
  const result = await run()
  log(`${label}: ${seconds(performance.now() - t)}`)
  return result
}

const loadStart = load()
log(`sizes ${sizes.join(', ')}, ${reps} repetition(s)${skipMillion ? '' : `, then ${millionRows} rows`}; writing ${path.relative(process.cwd(), out)}`)
try {
  const cold = await timed('cold start', () => coldStart(coldRuns!))
  const polls = await timed('status calls in 6 h', () => statusCallsInSixHours())

  for (const size of sizes) {
    const prompts = await timed(`${size}: generating prompt files`, () => makePromptWorkspace(size))
    const data = await timed(`${size}: generating the CSV`, () => makeDataWorkspace(size))
    workspaces.push(prompts, data)
    for (let rep = 1; rep <= reps!; rep++) {
      const tag = `${size} #${rep}`
      pairOf(`prompt@${size}`).action.push(await timed(`${tag} prompt files, action`, () => paths.promptRoundAction(prompts, size)))
      pairOf(`lock@${size}`).action.push(await timed(`${tag} lock check, action`, () => paths.lockCheckAction(prompts, size)))
      pairOf(`lock@${size}`).floor.push(await timed(`${tag} lock check, floor`, () => paths.lockCheckFloor(prompts)))
      pairOf(`prompt@${size}`).floor.push(await timed(`${tag} prompt files, floor`, () => paths.promptRoundFloor(prompts)))
      pairOf(`data@${size}`).action.push(await timed(`${tag} data path, action`, () => paths.dataRoundAction(data, size)))
      pairOf(`data@${size}`).floor.push(await timed(`${tag} data path, floor`, () => paths.dataRoundFloor(data)))
      const collected = await timed(`${tag} collect, floor and action`, () => paths.collectPair(prompts, size))
      pairOf(`collect@${size}`).action.push(collected.action)
      pairOf(`collect@${size}`).floor.push(collected.floor)
    }
    await Promise.all([prompts, data].map((w) => rm(w, { recursive: true, force: true })))
  }

  let million: Results['million']
  if (!skipMillion) {
    const data = await timed(`${millionRows} rows: generating the CSV`, () => makeDataWorkspace(millionRows!))
    workspaces.push(data)
    const pair: Pair = { action: [], floor: [] }
    // One repetition by default: it is the longest single run, and its point is a memory ceiling, not a ratio.
    const [millionReps] = positiveIntegers('BENCH_MILLION_REPS', '1')
    for (let rep = 1; rep <= millionReps!; rep++) {
      pair.action.push(await timed(`${millionRows} rows #${rep}, dry run`, () => paths.dataPlanAction(data, millionRows!)))
      pair.floor.push(await timed(`${millionRows} rows #${rep}, floor`, () => paths.dataPlanFloor(data)))
    }
    million = { rows: millionRows!, pair }
    await rm(data, { recursive: true, force: true })
  }

  const results: Results = {
    note: process.env.BENCH_NOTE ?? '',
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machine(),
    sizes,
    reps: reps!,
    durationMs: performance.now() - started,
    load: { start: loadStart, end: load() },
    pairs,
    million,
    polls,
    cold
  }
  await writeFile(out, renderResults(results))
  log(`wrote ${out}`)
} finally {
  await Promise.all(workspaces.map((w) => rm(w, { recursive: true, force: true })))
}
