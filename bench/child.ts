/**
 * Runs one Node program as a child process (the bundled action, or a floor) and records what the benchmark needs
 * of it: wall time from spawn to exit, the moment each log marker first appeared on its stdout (timed here, as the
 * lines arrive: stdout to a pipe is written synchronously on Linux, so a line is seen when it is logged), and the
 * child's own peak RSS, written at exit by rss-preload.mjs.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { DIST, ROOT, parseOutputs, runnerEnvironment } from '../test/support/run-action.js'

const PRELOAD = path.join(ROOT, 'bench', 'rss-preload.mjs')

export interface ChildRun {
  exitCode: number
  /** Spawn to exit, ms. */
  wallMs: number
  /** Spawn to the first byte on stdout or stderr, ms. */
  firstOutputMs: number
  /** Peak RSS of the child, bytes (0 when it could not be read). */
  peakRss: number
  /** ms after spawn at which a line starting with each watched prefix first appeared. */
  marks: Map<string, number>
  stdout: string
  stderr: string
}

export async function runChild(options: {
  script: string
  args?: string[]
  env: Record<string, string>
  cwd: string
  /** Line prefixes to time (e.g. `::group::Reading prompts`). */
  watch?: string[]
  timeoutMs?: number
}): Promise<ChildRun> {
  const rssDir = await mkdtemp(path.join(tmpdir(), 'cba-bench-rss-'))
  const rssFile = path.join(rssDir, 'rss')
  const env = { ...options.env, BENCH_RSS_FILE: rssFile }
  const marks = new Map<string, number>()
  const watch = options.watch ?? []
  let stdout = ''
  let stderr = ''
  let firstOutputMs = -1
  let pending = ''

  const started = performance.now()
  const child = spawn(process.execPath, ['--import', PRELOAD, options.script, ...(options.args ?? [])], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const seen = () => {
    if (firstOutputMs < 0) firstOutputMs = performance.now() - started
  }
  child.stdout.on('data', (d: Buffer) => {
    const at = performance.now() - started
    seen()
    const text = String(d)
    stdout += text
    if (!watch.length) return
    // Only whole lines are matched; the time is when the line's last piece arrived.
    const lines = (pending + text).split('\n')
    pending = lines.pop()!
    for (const line of lines) for (const prefix of watch) if (!marks.has(prefix) && line.startsWith(prefix)) marks.set(prefix, at)
  })
  child.stderr.on('data', (d: Buffer) => {
    seen()
    stderr += d.toString()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000)
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
  const wallMs = performance.now() - started
  clearTimeout(timer)
  const peakRss = await readFile(rssFile, 'utf8').then(
    (kib) => Number(kib) * 1024,
    () => 0
  )
  await rm(rssDir, { recursive: true, force: true })
  return { exitCode, wallMs, firstOutputMs, peakRss, marks, stdout, stderr }
}

export interface ActionResult extends ChildRun {
  outputs: Record<string, string>
}

/**
 * dist/index.js as a runner runs it: INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a
 * workspace and RUNNER_TEMP (runnerEnvironment in test/support/run-action.ts, shared with the tests).
 */
export async function runBundledAction(options: {
  workspace: string
  runnerTemp: string
  inputs: Record<string, string>
  watch?: string[]
  env?: Record<string, string>
}): Promise<ActionResult> {
  const { env, outputFile } = await runnerEnvironment(options)
  const run = await runChild({ script: DIST, env, cwd: options.workspace, watch: options.watch })
  return { ...run, outputs: parseOutputs(await readFile(outputFile, 'utf8')) }
}

/** One line of the child's log that says why it failed, for an error message. */
export function failureOf(run: ChildRun): string {
  const lines = (run.stdout + run.stderr).split('\n').filter((l) => /^::error|Error|error:/.test(l))
  return (lines.slice(-3).join(' | ') || run.stderr.slice(-500) || run.stdout.slice(-500)).slice(0, 800)
}
