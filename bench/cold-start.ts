/**
 * Cold start: dist/index.js from spawn to its first line of output, with an input that fails at once
 * (`command: bogus`: the inputs are read, the error is reported, nothing else is loaded or called). That is the
 * time to load and evaluate the main bundle, the part of every run that no input makes smaller. The floor is Node
 * itself starting and printing a line (cold-floor.mjs), with the same preload.
 *
 * Measured with tinybench: short, many repetitions, one duration each, which is what it is built for. The task
 * returns the child's spawn-to-first-output time as `overriddenDuration`, so the parent's own bookkeeping is not
 * counted.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Bench } from 'tinybench'
import { ROOT } from '../test/support/run-action.js'
import { runBundledAction, runChild } from './child.js'

export interface ColdStart {
  actionMs: number
  floorMs: number
  /** Spawn to exit of the action, median. */
  actionExitMs: number
  runs: number
}

export async function coldStart(runs: number): Promise<ColdStart> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'cba-bench-cold-'))
  const exits: number[] = []
  try {
    const bench = new Bench({ iterations: runs, time: 0, warmup: true, warmupIterations: 2, warmupTime: 0, throws: true })
    bench.add('action', async () => {
      const run = await runBundledAction({ workspace, runnerTemp: workspace, inputs: { command: 'bogus' } })
      if (run.exitCode !== 1 || !/::error[ :]/.test(run.stdout)) throw new Error(`cold start: expected a failed step, got exit ${run.exitCode}: ${run.stdout.slice(0, 300)}`)
      exits.push(run.wallMs)
      return { overriddenDuration: run.firstOutputMs }
    })
    bench.add('floor', async () => {
      const run = await runChild({ script: path.join(ROOT, 'bench', 'cold-floor.mjs'), env: { PATH: process.env.PATH ?? '' }, cwd: workspace })
      return { overriddenDuration: run.firstOutputMs }
    })
    await bench.run()
    const p50 = (name: string) => {
      const result = bench.getTask(name)!.result
      if (result.state !== 'completed') throw new Error(`cold start ${name}: ${result.state}`)
      return result.latency.p50
    }
    const sorted = exits.slice(-runs).sort((a, b) => a - b)
    return { actionMs: p50('action'), floorMs: p50('floor'), actionExitMs: sorted[Math.floor(sorted.length / 2)]!, runs }
  } finally {
    await rm(workspace, { recursive: true, force: true })
  }
}
