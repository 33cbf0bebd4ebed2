/**
 * One repetition of each measured path at one size: the action (dist/index.js as a child, against a fresh
 * simulator) and its floor (floor.ts as a child, against a fresh simulator), one after the other, so that the
 * machine's noise at that moment falls on both. Each returns the durations of its phases and the child's peak RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BatchSimulator, DEFAULT_API_KEY } from '../test/support/simulator.js'
import { failureOf, runBundledAction, runChild, type ChildRun } from './child.js'
import { DATA_FILE, TEMPLATE_FILE } from './inputs.js'

const FLOOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'floor.js')

/** Phase name → ms, plus the child's peak RSS in bytes. */
export interface Sample {
  phases: Record<string, number>
  peakRss: number
  /** Facts worth a line in the report (API calls made, batches planned). */
  notes?: Record<string, number | string>
}

// The action's log groups that start each phase (src/commands/submit.ts).
const READ = '::group::Reading prompts'
const PREFLIGHT = '::group::Checking models and estimating cost'
const WAIT = '::group::Waiting up to'

const newTemp = (name: string) => mkdtemp(path.join(tmpdir(), `cba-bench-${name}-`))

async function withSimulator<T>(run: (sim: BatchSimulator) => Promise<T>): Promise<T> {
  // processingMs 0: a batch has ended by the first status read, so no phase waits on a clock.
  const sim = await BatchSimulator.start({ processingMs: 0 })
  try {
    return await run(sim)
  } finally {
    await sim.close()
  }
}

const apiInputs = (sim: BatchSimulator) => ({ 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': sim.url })

function check(run: ChildRun, what: string, ok: boolean): void {
  if (run.exitCode !== 0 || !ok) throw new Error(`${what} failed (exit ${run.exitCode}): ${failureOf(run)}`)
}

function between(run: ChildRun, from: string, to?: string): number {
  const a = run.marks.get(from)
  const b = to === undefined ? run.wallMs : run.marks.get(to)
  if (a === undefined || b === undefined) throw new Error(`no ${a === undefined ? from : to} in the log`)
  return b - a
}

async function floor(mode: string, options: Record<string, unknown>, watch: string[]): Promise<ChildRun> {
  const temp = await newTemp('floor')
  try {
    const run = await runChild({ script: FLOOR, args: [mode, JSON.stringify({ ...options, temp })], env: { PATH: process.env.PATH ?? '' }, cwd: temp, watch })
    check(run, `floor ${mode}`, true)
    return run
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

const clean = (workspace: string, ...names: string[]) => Promise.all(names.map((n) => rm(path.join(workspace, n), { recursive: true, force: true })))

/** Prompt files, a whole round (read and plan, submit, wait and write), waiting in the job. Leaves the outputs and lock in place. */
export async function promptRoundAction(workspace: string, size: number): Promise<Sample> {
  await clean(workspace, 'generated', 'claude-batch.lock.json')
  const runnerTemp = await newTemp('runner')
  try {
    return await withSimulator(async (sim) => {
      const run = await runBundledAction({ workspace, runnerTemp, inputs: { ...apiInputs(sim), 'wait-minutes': '60' }, watch: [READ, PREFLIGHT, WAIT] })
      check(run, `prompt round at ${size}`, run.outputs.succeeded === String(size))
      return {
        phases: { read: between(run, READ, PREFLIGHT), submit: between(run, PREFLIGHT, WAIT), write: between(run, WAIT), round: run.wallMs },
        peakRss: run.peakRss
      }
    })
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
  }
}

export async function promptRoundFloor(workspace: string): Promise<Sample> {
  try {
    return await withSimulator(async (sim) => {
      const run = await floor('prompt-round', { workspace, url: sim.url, apiKey: DEFAULT_API_KEY, outDir: 'floor-generated' }, ['floor:start', 'floor:read', 'floor:submit'])
      return {
        phases: { read: between(run, 'floor:start', 'floor:read'), submit: between(run, 'floor:read', 'floor:submit'), write: between(run, 'floor:submit'), round: run.wallMs },
        peakRss: run.peakRss
      }
    })
  } finally {
    await clean(workspace, 'floor-generated')
  }
}

/**
 * Pay once: the action run again over the checkout it has just generated (every file unchanged). It must send
 * nothing: the simulator counts every call it receives.
 */
export async function lockCheckAction(workspace: string, size: number): Promise<Sample> {
  const runnerTemp = await newTemp('runner')
  try {
    return await withSimulator(async (sim) => {
      const run = await runBundledAction({ workspace, runnerTemp, inputs: { ...apiInputs(sim), 'wait-minutes': '60' } })
      check(run, `lock check at ${size}`, run.outputs.status === 'up-to-date' && run.outputs['unchanged-count'] === String(size))
      return { phases: { check: run.wallMs }, peakRss: run.peakRss, notes: { apiCalls: sim.calls.length } }
    })
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
  }
}

export async function lockCheckFloor(workspace: string): Promise<Sample> {
  const run = await floor('lock-check', { workspace, lockFile: 'claude-batch.lock.json' }, [])
  return { phases: { check: run.wallMs }, peakRss: run.peakRss }
}

/** The data path: CSV + template → requests → the CSV again with an output column, waiting in the job. */
export async function dataRoundAction(workspace: string, size: number): Promise<Sample> {
  await clean(workspace, 'generated', 'claude-batch.lock.json')
  const runnerTemp = await newTemp('runner')
  try {
    return await withSimulator(async (sim) => {
      const run = await runBundledAction({
        workspace,
        runnerTemp,
        inputs: { ...apiInputs(sim), data: DATA_FILE, template: TEMPLATE_FILE, 'wait-minutes': '60' },
        watch: [READ, PREFLIGHT, WAIT]
      })
      check(run, `data round at ${size}`, run.outputs.succeeded === String(size))
      return {
        phases: { read: between(run, READ, PREFLIGHT), submit: between(run, PREFLIGHT, WAIT), write: between(run, WAIT), round: run.wallMs },
        peakRss: run.peakRss
      }
    })
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
    await clean(workspace, 'generated', 'claude-batch.lock.json')
  }
}

export async function dataRoundFloor(workspace: string): Promise<Sample> {
  try {
    return await withSimulator(async (sim) => {
      const run = await floor('data-round', { workspace, url: sim.url, apiKey: DEFAULT_API_KEY, outDir: 'floor-generated', data: DATA_FILE, template: TEMPLATE_FILE }, [
        'floor:start',
        'floor:read',
        'floor:submit'
      ])
      return {
        phases: { read: between(run, 'floor:start', 'floor:read'), submit: between(run, 'floor:read', 'floor:submit'), write: between(run, 'floor:submit'), round: run.wallMs },
        peakRss: run.peakRss
      }
    })
  } finally {
    await clean(workspace, 'floor-generated')
  }
}

/**
 * `collect` from a manifest: a submit that does not wait (untimed) leaves its manifest in RUNNER_TEMP's local
 * state folder (no artifact service here, as in a local run); `collect` then finds it, reads the batch, and
 * writes every output and the lock. The floor reads that same manifest and writes the same files.
 */
export async function collectPair(workspace: string, size: number): Promise<{ action: Sample; floor: Sample }> {
  await clean(workspace, 'generated', 'claude-batch.lock.json')
  const runnerTemp = await newTemp('runner')
  try {
    return await withSimulator(async (sim) => {
      const submitted = await runBundledAction({ workspace, runnerTemp, inputs: { ...apiInputs(sim), 'wait-minutes': '0' } })
      check(submitted, `submit for collect at ${size}`, submitted.outputs['request-count'] === String(size))
      const floorRun = await floor('collect', { workspace, url: sim.url, apiKey: DEFAULT_API_KEY, stateDir: path.join(runnerTemp, 'claude-batch-state') }, [])
      await clean(workspace, 'generated')
      const run = await runBundledAction({ workspace, runnerTemp, inputs: { ...apiInputs(sim), command: 'collect' } })
      check(run, `collect at ${size}`, run.outputs.succeeded === String(size))
      return { action: { phases: { collect: run.wallMs }, peakRss: run.peakRss }, floor: { phases: { collect: floorRun.wallMs }, peakRss: floorRun.peakRss } }
    })
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
    await clean(workspace, 'generated', 'claude-batch.lock.json')
  }
}

/** A dataset of `rows` rows planned and split into batches, as a dry run (nothing is created). */
export async function dataPlanAction(workspace: string, rows: number): Promise<Sample> {
  const runnerTemp = await newTemp('runner')
  try {
    return await withSimulator(async (sim) => {
      const run = await runBundledAction({
        workspace,
        runnerTemp,
        inputs: { ...apiInputs(sim), data: DATA_FILE, template: TEMPLATE_FILE, 'dry-run': 'true' },
        watch: [READ, PREFLIGHT]
      })
      const planned = /Dry run: ([\d,]+) requests? in ([\d,]+) batch/.exec(run.stdout)
      check(run, `dry run of ${rows} rows`, Boolean(planned) && planned![1]!.replace(/,/g, '') === String(rows))
      return {
        phases: { plan: run.wallMs },
        peakRss: run.peakRss,
        notes: { batches: Number(planned![2]!.replace(/,/g, '')), creates: sim.calls.filter((c) => c.method === 'POST' && c.path === '/v1/messages/batches').length }
      }
    })
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
  }
}

export async function dataPlanFloor(workspace: string): Promise<Sample> {
  const run = await floor('data-plan', { workspace, data: DATA_FILE, template: TEMPLATE_FILE }, [])
  const batches = /floor:batches (\d+)/.exec(run.stdout)
  return { phases: { plan: run.wallMs }, peakRss: run.peakRss, notes: { batches: Number(batches?.[1] ?? 0) } }
}
