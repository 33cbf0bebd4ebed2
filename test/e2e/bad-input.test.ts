/**
 * The bad-input corpus, run through the bundled action as a runner runs it. Every case in
 * bad-input-cases.ts must end with the error it names (on its file and line) and keep the
 * invariants any bad input must keep:
 *
 * - the step fails;
 * - no batch is created (each case has its own API key, so its create calls are told apart in the
 *   one simulator the whole corpus shares);
 * - nothing in the workspace, nor outside it, is written, moved or removed;
 * - no line of the log starts a workflow command the action did not mean;
 * - the API key is nowhere in the log, the outputs or the job summary;
 * - no stack trace: an error is said in words.
 *
 * The runs happen up front, a few at a time, and each case then gets its own test, so one failing
 * case says exactly which invariants it broke.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { runAction, type ActionRun } from '../support/run-action.js'
import { CASES, FORGED, OUTSIDE_FILES, type BadCase, type CaseContext, type ForgedManifestCase } from './bad-input-cases.js'

const CONCURRENCY = 6
/** The workflow commands this action means to write. Anything else starting a line is injected. */
const OWN_COMMANDS = new Set(['error', 'warning', 'notice', 'debug', 'add-mask', 'group', 'endgroup'])

interface Outcome {
  run?: ActionRun
  /** Set when the case could not even be run (setup failed, the process did not start). */
  crash?: string
  before: Snapshot
  after: Snapshot
  key: string
  root: string
}

type Snapshot = Map<string, string>

let simulator: BatchSimulator
const outcomes = new Map<string, Outcome>()

const keyOf = (index: number) => `sk-ant-api03-corpus-case${index}-do-not-print`

beforeAll(async () => {
  simulator = await BatchSimulator.start({ apiKeys: [DEFAULT_API_KEY, ...[...CASES, ...FORGED].map((_, i) => keyOf(i))] })
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < CASES.length) {
      const index = next++
      const c = CASES[index]!
      const started = Date.now()
      outcomes.set(c.name, await runCase(c, keyOf(index)))
      if (process.env.CORPUS_TIMES) process.stderr.write(`${Date.now() - started} ms  ${c.name}\n`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}, 240_000)

afterAll(async () => {
  await simulator?.close()
  await Promise.all([...outcomes.values()].map((o) => rm(o.root, { recursive: true, force: true })))
})

/** Makes `<root>/ws` (the workspace) and `<root>/outside`, runs the action, and snapshots both around it. */
async function runCase(c: BadCase, key: string): Promise<Outcome> {
  const root = await mkdtemp(path.join(tmpdir(), 'cba-corpus-'))
  const ws = path.join(root, 'ws')
  const outside = path.join(root, 'outside')
  const empty = new Map<string, string>()
  try {
    await mkdir(ws)
    for (const [name, content] of Object.entries(OUTSIDE_FILES)) await put(outside, name, content)
    for (const [name, content] of Object.entries(c.files ?? {})) await put(ws, name, content)
    for (const dir of c.dirs ?? []) await mkdir(path.join(ws, dir), { recursive: true })
    for (const [name, target] of Object.entries(c.links ?? {})) {
      await mkdir(path.dirname(path.join(ws, name)), { recursive: true })
      await symlink(target.startsWith('@outside/') ? path.join(outside, target.slice('@outside/'.length)) : target, path.join(ws, name))
    }
    const before = await snapshot(root)
    const run = await runAction({
      workspace: ws,
      inputs: {
        ...(c.noKey ? {} : { 'anthropic-api-key': key }),
        'anthropic-base-url': simulator.url,
        'poll-interval-seconds': '0.2',
        ...c.inputs
      },
      env: c.env,
      timeoutMs: 60_000
    })
    return { run, before, after: await snapshot(root), key, root }
  } catch (error) {
    return { crash: String((error as Error).stack ?? error), before: empty, after: empty, key, root }
  }
}

async function put(dir: string, name: string, content: string | Uint8Array): Promise<void> {
  const file = path.join(dir, name)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
}

/** Every path under `dir` (links not followed) with its kind and a hash of its content or target. */
async function snapshot(dir: string): Promise<Snapshot> {
  const result: Snapshot = new Map()
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(dir, rel))) {
      const child = path.join(rel, name)
      const abs = path.join(dir, child)
      const info = await lstat(abs)
      if (info.isSymbolicLink()) result.set(child, `link ${await readlink(abs)}`)
      else if (info.isDirectory()) {
        result.set(child, 'dir')
        await walk(child)
      } else
        result.set(
          child,
          `file ${createHash('sha256')
            .update(await readFile(abs))
            .digest('hex')}`
        )
    }
  }
  await walk('')
  return result
}

/** The log as a runner shows it: `::add-mask::` commands are consumed by the runner. */
const shownLog = (run: ActionRun) =>
  (run.stdout + run.stderr)
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')

/** Every expectation the case breaks, in words; empty when it behaves. */
function judge(c: BadCase, o: Outcome, rules: { creates: boolean } = { creates: true }): string[] {
  if (o.crash || !o.run) return [`could not run: ${o.crash}`]
  const run = o.run
  const log = shownLog(run)
  const errors = run.annotations.filter((a) => a.level === 'error')
  const creates = simulator.calls.filter((call) => call.method === 'POST' && call.path.split('?')[0] === '/v1/messages/batches' && keyOfCall(call.headers) === o.key)
  // Batches carry no key: when this case sent a create, the alternative checks pick its batch by content.
  const ctx: CaseContext = { run, errors, log, batches: creates.length ? simulator.batches() : [] }
  const broken: string[] = []

  if (c.alternative) {
    broken.push(...(c.alternative(ctx) ?? []))
  } else {
    if (run.exitCode === 0) broken.push('exit code 0: the step passed')
    if (run.exitCode !== 0 && run.exitCode !== 1) broken.push(`exit code ${run.exitCode} (killed or crashed)`)
    if (rules.creates && creates.length) broken.push(`${creates.length} create call(s) sent: a batch was made from bad input`)
    const match = errors.find(
      (e) => (c.error.file === undefined || e.file === c.error.file) && (c.error.line === undefined || [c.error.line].flat().includes(e.line!)) && c.error.message.test(e.message)
    )
    if (!match) {
      const where = c.error.file ? ` on ${c.error.file}${c.error.line ? `:${[c.error.line].flat().join(' or ')}` : ''}` : ''
      broken.push(`no error${where} matching ${c.error.message}; errors were: ${listErrors(errors) || 'none'}`)
    } else if (!saysWhatToDo(match.message)) {
      broken.push(`the error does not say what to change: ${match.message}`)
    }
  }

  // Nothing written, anywhere: not under output-dir, not over a source, not outside.
  const changed = diff(o.before, o.after)
  if (changed.length) broken.push(`the run changed files: ${changed.slice(0, 5).join(', ')}`)

  // No injected workflow command: every line that starts one is one of the action's own, and none
  // starts with text a file name or value put there.
  for (const line of run.stdout.split('\n')) {
    const t = line.trimStart()
    if (!t.startsWith('::')) continue
    const command = /^::([A-Za-z-]+)/.exec(t)?.[1] ?? ''
    if (!OWN_COMMANDS.has(command)) broken.push(`injected workflow command: ${JSON.stringify(line.slice(0, 120))}`)
    else if (/^::[A-Za-z-]+(?: [^:]*)?::INJECTED/.test(t) || (line !== t && t.includes('INJECTED'))) {
      broken.push(`injected workflow command: ${JSON.stringify(line.slice(0, 120))}`)
    }
  }

  // The key, nowhere.
  const places = { log, summary: run.summary, outputs: JSON.stringify(run.outputs) }
  for (const [where, text] of Object.entries(places)) if (text.includes(o.key)) broken.push(`the API key is in the ${where}`)

  if (/^\s+at .+:\d+:\d+\)?$/m.test(log)) broken.push(`a stack trace in the log: ${/.*Error.*$/m.exec(log)?.[0] ?? ''}`)

  if (c.extra) broken.push(...c.extra(ctx))
  return broken
}

/** The key a call was made with: `x-api-key`, or `Authorization: Bearer` as SDK 1.x sends it. */
function keyOfCall(headers: Record<string, string>): string | undefined {
  return headers['x-api-key'] || /^Bearer\s+(\S+)/i.exec(headers.authorization ?? '')?.[1]
}

function listErrors(annotations: ReadonlyArray<{ file?: string; line?: number; message: string }>): string {
  return annotations.map((a) => `[${a.file ?? '-'}${a.line ? `:${a.line}` : ''}] ${a.message.slice(0, 160)}`).join(' | ')
}

/**
 * An error says what to change when it tells the user to do something or what is allowed. The
 * words are broad on purpose: the point is to catch a bare "failed" or a raw system error.
 */
function saysWhatToDo(message: string): boolean {
  return /\b(use|choose|rename|remove|add|set|give|write|lower|raise|name|save|put|check|move|fix|quote|make|change|pick|split|shorten|replace|convert|delete|must|allowed|only|instead|expected|need|needs|should|cannot|not allowed|is not|are not)\b/i.test(
    message
  )
}

function diff(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = []
  for (const [p, v] of after) if (before.get(p) !== v) out.push(before.has(p) ? `${p} (changed)` : `${p} (new)`)
  for (const p of before.keys()) if (!after.has(p)) out.push(`${p} (removed)`)
  return out
}

describe('bad input: a clear error on its file and line, no batch, nothing written', () => {
  it(`has at least 60 cases, each with a distinct name`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60)
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length)
  })

  it.each(CASES.map((c) => [`[${c.item}] ${c.name}`, c] as const))('%s', (_title, c) => {
    const outcome = outcomes.get(c.name)
    expect(outcome).toBeDefined()
    expect({ case: c.name, broken: judge(c, outcome!) }).toEqual({ case: c.name, broken: [] })
  })
})

/**
 * Forged manifests: a real submission (wait-minutes 0, manifest in RUNNER_TEMP as on a local run),
 * then its one output path replaced, then collect. Nothing may be written anywhere, the step must
 * fail with an error naming the path, and no name may inject a workflow command.
 */
describe('a forged manifest: collect checks every path again before writing', () => {
  const forged = new Map<string, Outcome>()

  beforeAll(async () => {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < FORGED.length) {
        const index = next++
        const c = FORGED[index]!
        const started = Date.now()
        forged.set(c.name, await runForged(c, keyOf(CASES.length + index)))
        if (process.env.CORPUS_TIMES) process.stderr.write(`${Date.now() - started} ms  ${c.name}\n`)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  }, 120_000)

  afterAll(async () => {
    await Promise.all([...forged.values()].map((o) => rm(o.root, { recursive: true, force: true })))
  })

  it.each(FORGED.map((c) => [`[${c.item}] ${c.name}`, c] as const))('%s', (_title, c) => {
    const o = forged.get(c.name)!
    const asCase: BadCase = { name: c.name, item: c.item, error: { message: c.message } }
    // No "no create" rule here: the submission legitimately made its batch before the forgery.
    const broken = judge(asCase, o, { creates: false })
    expect({ case: c.name, broken }).toEqual({ case: c.name, broken: [] })
  })
})

async function runForged(c: ForgedManifestCase, key: string): Promise<Outcome> {
  const root = await mkdtemp(path.join(tmpdir(), 'cba-forged-'))
  const ws = path.join(root, 'ws')
  const outside = path.join(root, 'outside')
  const runnerTemp = await mkdtemp(path.join(tmpdir(), 'cba-forged-runner-'))
  const empty = new Map<string, string>()
  const inputs = { 'anthropic-api-key': key, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2' }
  try {
    for (const [name, content] of Object.entries(OUTSIDE_FILES)) await put(outside, name, content)
    await put(ws, 'prompts/a.md', 'Say hello.\n')
    for (const [name, content] of Object.entries(c.files ?? {})) await put(ws, name, content)
    for (const [name, target] of Object.entries(c.links ?? {})) {
      await symlink(target.startsWith('@outside/') ? path.join(outside, target.slice('@outside/'.length)) : target, path.join(ws, name))
    }
    const submitted = await runAction({ workspace: ws, runnerTemp, inputs })
    if (submitted.exitCode !== 0) return { crash: `the submission to forge failed: ${submitted.stdout.slice(-500)}`, before: empty, after: empty, key, root }
    const dir = path.join(runnerTemp, 'claude-batch-state', 'manifests')
    // Both records of the submission, its journal and its manifest, are forged alike.
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json'))) {
      const manifest = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { requests: unknown[][] }
      manifest.requests[0]![6] = c.output
      await writeFile(path.join(dir, file), JSON.stringify(manifest))
    }
    const before = await snapshot(root)
    const run = await runAction({ workspace: ws, runnerTemp, inputs: { ...inputs, command: 'collect' } })
    return { run, before, after: await snapshot(root), key, root }
  } catch (error) {
    return { crash: String((error as Error).stack ?? error), before: empty, after: empty, key, root }
  } finally {
    await rm(runnerTemp, { recursive: true, force: true })
  }
}
