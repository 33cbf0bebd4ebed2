import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the folder holding action.yml, whether this runs from source or from build/. */
export const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'action.yml'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('action.yml not found above test/support')
    dir = parent
  }
  return dir
})()

/** The bundled action, run exactly as the runner runs it. */
export const DIST = path.join(ROOT, 'dist', 'index.js')

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  file?: string
  line?: number
  title?: string
  message: string
}

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  annotations: Annotation[]
  workspace: string
  runnerTemp: string
}

/** A temp workspace with the given files (path → content). */
export async function makeWorkspace(files: Record<string, string> = {}): Promise<string> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'cba-workspace-'))
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(workspace, name)), { recursive: true })
    await writeFile(path.join(workspace, name), content)
  }
  return workspace
}

/**
 * What a runner gives a step: PATH and HOME, GITHUB_WORKSPACE, RUNNER_TEMP, empty GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files in RUNNER_TEMP, and each input as INPUT_<NAME>. `env` is added last.
 */
export async function runnerEnvironment(o: {
  workspace: string
  runnerTemp: string
  inputs: Record<string, string>
  env?: Record<string, string>
}): Promise<{ env: Record<string, string>; outputFile: string; summaryFile: string }> {
  const outputFile = path.join(o.runnerTemp, 'output.txt')
  const summaryFile = path.join(o.runnerTemp, 'summary.md')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: o.runnerTemp,
    ...o.env
  }
  for (const [name, value] of Object.entries(o.inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  return { env, outputFile, summaryFile }
}

/**
 * Runs dist/index.js as a separate process with `INPUT_*` variables, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files and a workspace, as a GitHub runner does, and reads back what it left.
 * Inputs are given by their action.yml names; unset inputs get action.yml's defaults from the
 * runner, so the caller passes those it cares about.
 */
export async function runAction(options: {
  workspace: string
  inputs: Record<string, string>
  env?: Record<string, string>
  timeoutMs?: number
  /** Where the runner's own temp directory goes (default: a new temp directory). */
  runnerTemp?: string
  /** Passes the action's log through as it comes, as a runner's log view does. */
  echo?: boolean
}): Promise<ActionRun> {
  const runnerTemp = options.runnerTemp ?? (await mkdtemp(path.join(tmpdir(), 'cba-runner-')))
  await mkdir(runnerTemp, { recursive: true })
  const { env, outputFile, summaryFile } = await runnerEnvironment({ ...options, runnerTemp })

  const child = spawn(process.execPath, [DIST], { cwd: options.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    // Debug lines are hidden on a runner unless step debugging is on.
    if (options.echo) process.stdout.write(String(d).replace(/^::debug::.*\n/gm, ''))
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (options.echo) process.stderr.write(d)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
  clearTimeout(timer)

  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputs(await readFile(outputFile, 'utf8')),
    summary: await readFile(summaryFile, 'utf8'),
    annotations: parseAnnotations(stdout),
    workspace: options.workspace,
    runnerTemp
  }
}

/** Reads GITHUB_OUTPUT's `name<<delimiter` blocks, as the runner does. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!)
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i]!)
    outputs[name!] = value.join('\n')
  }
  return outputs
}

/** Reads `::error file=…,line=…::message` workflow commands from the log. */
export function parseAnnotations(stdout: string): Annotation[] {
  const annotations: Annotation[] = []
  for (const line of stdout.split('\n')) {
    const match = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!match) continue
    const properties = Object.fromEntries(
      (match[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const at = kv.indexOf('=')
          return [kv.slice(0, at), unescape(kv.slice(at + 1))]
        })
    )
    annotations.push({
      level: match[1] as Annotation['level'],
      file: properties.file,
      line: properties.line ? Number(properties.line) : undefined,
      title: properties.title,
      message: unescape(match[3]!)
    })
  }
  return annotations
}

function unescape(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
}
