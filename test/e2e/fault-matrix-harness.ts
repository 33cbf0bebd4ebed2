/**
 * The machinery of the fault matrix (fault-matrix.test.ts): one scenario = fresh stand-ins (the Batch API
 * simulator and the GitHub fake), faults injected for one run, the bundled action run as a workflow would run
 * it (submit, then collect with a pull request, then a follow-up collect when work was left), and a record of
 * everything the runs left behind. The invariants every scenario must keep are written once, here, as
 * functions that throw a message naming what broke.
 */
import { expect } from '@jest/globals'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY, type Fault } from '../support/simulator.js'
import { FAKE_TOKEN, GitHubFake, type FakeArtifactView } from '../support/github-fake.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

/** Where a fault is injected: which stand-in, and the name the matrix counts coverage by. */
export type Place =
  | 'models'
  | 'count_tokens'
  | 'create'
  | 'list'
  | 'retrieve'
  | 'results'
  | 'CreateArtifact'
  | 'FinalizeArtifact'
  | 'ListArtifacts'
  | 'download'
  | 'refs'
  | 'trees'
  | 'commits'
  | 'pulls'
  | 'labels'

export const API_PLACES: readonly Place[] = ['models', 'count_tokens', 'create', 'list', 'retrieve', 'results']

export interface Scenario {
  name: string
  place: Place
  /** Injected into the stand-in that `place` belongs to, right before the run named by `during`. */
  faults: Fault[]
  /**
   * `wait`: submit waits (wait-minutes `waitMinutes`) and writes the results itself.
   * `collect`: submit with wait-minutes 0, then collect with open-pr in a fresh checkout, as a schedule would.
   */
  flow: 'wait' | 'collect'
  /** Which run the faults hit (default: submit). Faults left unused are cleared after it. */
  during?: 'submit' | 'collect'
  /** Faults for the Batch API simulator at submit, to set the scene for a fault at collect (e.g. a lost create). */
  setup?: Fault[]
  /** Split the four requests into two batches of two (default true). */
  split?: boolean
  /** Default 0.2 for the wait flow (a 12 s deadline). */
  waitMinutes?: number
  /**
   * A batch of another submission, of the same size, made in the same account right after the submit: a
   * lost create must never take it for this submission's.
   */
  interloper?: boolean
  /**
   * What the end state must be after the follow-up. `all` (default): every reply written and kept once.
   * `none`: the fault stopped the submission before anything was spent, and the step said so.
   * `partial`: some requests were never sent, and the step said which to send again.
   */
  end?: 'all' | 'none' | 'partial'
}

export interface RunRecord {
  label: 'submit' | 'collect' | 'follow-up'
  result: ActionRun
  ms: number
  waitMinutes: number
}

export interface Outcome {
  scenario: Scenario
  runs: RunRecord[]
  /** Every batch the simulator holds, with its custom_ids. */
  batches: Array<{ id: string; customIds: string[] }>
  artifacts: Array<{ name: string; files: Record<string, string> }>
  pulls: ReturnType<GitHubFake['pulls']>
  /** Files on each pull request's head branch, for the paths of the expected outputs. */
  prFiles: Record<string, string | undefined>
  /** Faults still queued when the scenario ended (0 means each fault really fired). */
  unfired: number
  /** Calls the stand-ins answered, for a failure message. */
  trace: string
}

/** The checkout: two prompt files and a data file of two rows through a template, four requests in all. */
export const PROMPTS: Record<string, string> = {
  'prompts/products/teapot.md': '---\nmax_tokens: 200\n---\nDescribe a teapot.\n',
  'prompts/products/kettle.md': 'Describe a kettle.\n',
  'data/tickets.csv': 'id,subject\nA1,Broken lid\nA2,Late parcel\n',
  'templates/classify.md': '---\nmax_tokens: 20\n---\nClassify: {{subject}}\n'
}
const SOURCE_INPUTS = { data: 'data/tickets.csv', template: 'templates/classify.md' }
export const OUTPUTS = ['generated/products/kettle.md', 'generated/products/teapot.md', 'generated/tickets.csv']
const INTERLOPER_TAG = 'zzzzzzzz'

/** How long a create may go unanswered before the action looks for the batch it may have made. */
const CREATE_TIMEOUT_MS = 3_000
/** A run is killed this long after it broke the time invariant (wait-minutes + 30 s), so a hang costs little. */
const KILL_MARGIN_MS = 5_000

/** Runs one scenario to its end and records what it left. Never throws: a harness error is an outcome too. */
export async function play(scenario: Scenario): Promise<Outcome> {
  const sim = await BatchSimulator.start({ processingMs: 0 })
  const github = await GitHubFake.start()
  const runs: RunRecord[] = []
  const during = scenario.during ?? 'submit'
  const split = scenario.split ?? true
  let unfired = 0
  // A fault for every call from then on is never used up: it cannot tell whether it fired.
  let endless = 0
  const place = (faults: Fault[]) => {
    for (const fault of faults) {
      if (fault.times === Infinity) endless++
      ;(API_PLACES.includes(scenario.place) ? sim : github).injectFault(fault)
    }
  }
  const settle = () => {
    // Count what did not fire, then clear, so that later runs go through.
    unfired += Math.max(0, pendingFaults(sim) + pendingFaults(github) - endless)
    endless = 0
    sim.clearFaults()
    github.clearFaults()
  }

  const step = async (label: RunRecord['label'], inputs: Record<string, string>, event = 'push'): Promise<ActionRun> => {
    const waitMinutes = Number(inputs['wait-minutes'] ?? 0)
    const started = Date.now()
    const result = await runAction({
      workspace: await makeWorkspace(PROMPTS),
      inputs: {
        'anthropic-api-key': DEFAULT_API_KEY,
        'anthropic-base-url': sim.url,
        'github-token': FAKE_TOKEN,
        'poll-interval-seconds': '0.2',
        // Every run starts from a fresh checkout: the lock (pay once, tested in pay-once.test.ts) would only
        // add a file whose content differs run to run.
        'lock-file': '',
        ...inputs
      },
      env: {
        ...github.envFor(github.addRun({ event })),
        ...(split ? { CLAUDE_BATCH_TEST_MAX_REQUESTS: '2' } : {}),
        CLAUDE_BATCH_TEST_CREATE_TIMEOUT_MS: String(CREATE_TIMEOUT_MS)
      },
      timeoutMs: waitMinutes * 60_000 + 30_000 + KILL_MARGIN_MS
    })
    runs.push({ label, result, ms: Date.now() - started, waitMinutes })
    return result
  }
  const collectInputs = { command: 'collect', 'open-pr': 'true', 'pr-labels': 'generated' }

  try {
    if (during === 'submit') place(scenario.faults)
    for (const fault of scenario.setup ?? []) sim.injectFault(fault) // finite: the Batch API simulator's
    const waitMinutes = scenario.flow === 'wait' ? (scenario.waitMinutes ?? 0.2) : 0
    const submitted = await step('submit', { ...SOURCE_INPUTS, 'wait-minutes': String(waitMinutes) })
    settle()
    if (scenario.interloper) await makeInterloper(sim, split ? 2 : 4)

    let last = submitted
    let leftWork = scenario.flow === 'wait' ? !(submitted.exitCode === 0 && submitted.outputs.status === 'ended') : true
    if (scenario.flow === 'collect') {
      if (during === 'collect') place(scenario.faults)
      last = await step('collect', collectInputs, 'schedule')
      settle()
      leftWork = !(last.exitCode === 0 && last.outputs.status === 'ended')
    }
    // The next scheduled collect, with nothing failing: it must finish whatever was left.
    if (leftWork) await step('follow-up', collectInputs, 'schedule')
  } finally {
    settle()
    await sim.close()
    await github.close()
  }
  const artifacts = await Promise.all(
    github
      .artifacts()
      .filter((a) => a.finalized && !a.deleted)
      .map(async (a: FakeArtifactView) => ({ name: a.name, files: Object.fromEntries(Object.entries(await a.files()).map(([k, v]) => [k, String(v)])) }))
  )
  const pulls = github.pulls()
  const prFiles: Record<string, string | undefined> = {}
  for (const pull of pulls) for (const file of OUTPUTS) prFiles[`${pull.head}:${file}`] = github.fileAt(pull.head, file)
  return {
    scenario,
    runs,
    batches: sim.batches().map((b) => ({ id: b.id, customIds: b.customIds })),
    artifacts,
    pulls,
    prFiles,
    unfired,
    trace: [
      ...sim.calls.map((c) => `api ${c.method} ${c.path} → ${c.status}`),
      ...github.calls.filter((c) => !/^\/blob\//.test(c.path)).map((c) => `gh ${c.method} ${c.path} → ${c.status}`)
    ].join('\n')
  }
}

function pendingFaults(stand: BatchSimulator | GitHubFake): number {
  return (stand as unknown as { faults: { pending: number } }).faults.pending
}

/** Another submission's batch (another tag, other prompts) of `size` requests, made in the same account. */
async function makeInterloper(sim: BatchSimulator, size: number): Promise<void> {
  const requests = Array.from({ length: size }, (_, i) => ({
    custom_id: `${INTERLOPER_TAG}_spoon-${i}`,
    params: { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: `Describe spoon number ${i}.` }] }
  }))
  const response = await fetch(`${sim.url}/v1/messages/batches`, {
    method: 'POST',
    headers: { 'x-api-key': DEFAULT_API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ requests })
  })
  if (!response.ok) throw new Error(`interloper create answered ${response.status}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Invariants

const isOurs = (b: { customIds: string[] }) => !b.customIds.every((id) => id.startsWith(`${INTERLOPER_TAG}_`))
const tagOf = (customId: string) => customId.slice(0, customId.indexOf('_'))
const annotationsOf = (runs: RunRecord[]) => runs.flatMap((r) => r.result.annotations)
const batchIdsOf = (r: RunRecord): string[] => {
  try {
    return JSON.parse(r.result.outputs['batch-ids'] ?? '[]') as string[]
  } catch {
    return []
  }
}

/** At most one batch per chunk: the action never paid twice for the same requests. */
export function atMostOneBatchPerChunk(o: Outcome): void {
  const ours = o.batches.filter(isOurs)
  expect(ours.length).toBeLessThanOrEqual((o.scenario.split ?? true) ? 2 : 1)
  const sent = ours.flatMap((b) => b.customIds)
  expect(sent).toEqual([...new Set(sent)])
}

/** No orphan: every batch made is named by a journal or manifest artifact, or by a run's batch-ids output. */
export function noOrphan(o: Outcome): void {
  const named = new Set<string>()
  for (const a of o.artifacts) {
    const manifest = a.files['manifest.json']
    if (manifest) for (const b of (JSON.parse(manifest) as { batches: Array<{ id: string }> }).batches) named.add(b.id)
  }
  for (const r of o.runs) for (const id of batchIdsOf(r)) named.add(id)
  expect(
    o.batches
      .filter(isOurs)
      .map((b) => b.id)
      .filter((id) => !named.has(id))
  ).toEqual([])
}

/**
 * Every file a run wrote under the workspace is an expected output, holds exactly the reply of its own
 * request (the simulator's replies are deterministic: `baseline` is a clean run's), and no temporary file
 * of a write is left behind.
 */
export async function filesAreWhole(o: Outcome, baseline: Record<string, string>): Promise<void> {
  for (const r of o.runs) {
    const files = await listFiles(r.result.workspace)
    const made = files.filter((f) => !(f in PROMPTS))
    expect({ run: r.label, stray: made.filter((f) => !(f in baseline)) }).toEqual({ run: r.label, stray: [] })
    for (const file of made) {
      expect({ run: r.label, file, content: await readFile(path.join(r.result.workspace, file), 'utf8') }).toEqual({ run: r.label, file, content: baseline[file] })
    }
  }
}

/**
 * At most one pull request and one results artifact per submission; what the results artifact keeps is
 * every result of the submission exactly once, none of another submission, and the files as replied.
 */
export function keptOnce(o: Outcome, baseline: Record<string, string>): void {
  expect(o.pulls.length).toBeLessThanOrEqual(1)
  const results = o.artifacts.filter((a) => a.name.startsWith('claude-batch-results-'))
  const names = results.map((a) => a.name)
  expect(names).toEqual([...new Set(names)])
  for (const a of results) {
    const tag = a.name.slice('claude-batch-results-'.length)
    const ids = (a.files['results.jsonl'] ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id)
    expect(ids.filter((id) => tagOf(id) !== tag)).toEqual([])
    expect(ids).toEqual([...new Set(ids)])
    for (const [file, content] of Object.entries(a.files)) {
      if (file.startsWith('files/')) expect({ file, content }).toEqual({ file, content: baseline[file.slice('files/'.length)] })
    }
  }
  for (const [at, content] of Object.entries(o.prFiles)) {
    if (content !== undefined) expect({ at, content }).toEqual({ at, content: baseline[at.slice(at.indexOf(':') + 1)] })
  }
}

/** Each run ended within wait-minutes plus 30 s, whatever hung. */
export function endedInTime(o: Outcome): void {
  for (const r of o.runs) {
    expect({ run: r.label, killed: r.result.exitCode === -1, late: r.ms > r.waitMinutes * 60_000 + 30_000, ms: r.ms }).toMatchObject({ run: r.label, killed: false, late: false })
  }
}

/** What a failed step's last error line must tell the user: what to do next (or that nothing was spent). */
export const SAYS_WHAT_TO_DO =
  /run (submit|collect|the step) again|run collect|collect (finds|will|with batch-id|them)|next (run|collect)|tried again|try again|nothing was (submitted|sent|spent|created|written)|set fail-on-error/i

export function failureSaysWhatToDo(o: Outcome): void {
  for (const r of o.runs) {
    if (r.result.exitCode === 0) continue
    const errors = r.result.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect({ run: r.label, last: errors.at(-1) ?? '(no error line)' }).toEqual({ run: r.label, last: expect.stringMatching(SAYS_WHAT_TO_DO) })
  }
}

/**
 * The end state after the follow-up: with `all`, every reply is in one results artifact and on the pull
 * request (collect flow), or written by the waiting submit; every batch made was collected or is named in an
 * error or warning. The last run succeeded unless the scenario expects requests never sent.
 */
export function endState(o: Outcome, baseline: Record<string, string>): void {
  const end = o.scenario.end ?? 'all'
  const last = o.runs.at(-1)!
  const ours = o.batches.filter(isOurs)
  const results = o.artifacts.filter((a) => a.name.startsWith('claude-batch-results-'))
  const collectedTags = new Set(results.map((a) => a.name.slice('claude-batch-results-'.length)))
  const mentioned = annotationsOf(o.runs)
    .filter((a) => a.level !== 'notice')
    .map((a) => a.message)
    .join('\n')
  // A batch whose tag was collected had every result kept (keptOnce checks each is there once).
  for (const b of ours) {
    const kept = results.find((a) => a.name.endsWith(tagOf(b.customIds[0]!)))
    const ids = kept ? (kept.files['results.jsonl'] ?? '') : ''
    const collected = collectedTags.has(tagOf(b.customIds[0]!)) && b.customIds.every((id) => ids.includes(`"${id}"`))
    const waited = last.label === 'submit' && last.result.outputs.status === 'ended'
    expect({ batch: b.id, collectedOrReported: collected || waited || mentioned.includes(b.id) }).toEqual({ batch: b.id, collectedOrReported: true })
  }
  if (end === 'none') {
    expect(ours).toEqual([])
    expect(o.runs[0]!.result.exitCode).toBe(1)
    // The submit said so; a scheduled collect afterwards has nothing to do, and must not fail run after run.
    expect({ last: last.label, exitCode: last.result.exitCode }).toEqual({ last: last.label, exitCode: 0 })
    return
  }
  if (end === 'partial') {
    expect(o.runs.some((r) => /run submit again/i.test(r.result.stdout))).toBe(true)
    return
  }
  expect({ last: last.label, exitCode: last.result.exitCode }).toEqual({ last: last.label, exitCode: 0 })
  if (last.label === 'submit') {
    expect(JSON.parse(last.result.outputs['output-files'] ?? '[]')).toEqual(OUTPUTS)
    return
  }
  expect(results).toHaveLength(1)
  expect(
    Object.keys(results[0]!.files)
      .filter((f) => f.startsWith('files/'))
      .sort()
  ).toEqual(OUTPUTS.map((f) => `files/${f}`))
  expect(o.pulls).toHaveLength(1)
  for (const file of OUTPUTS) expect({ file, content: o.prFiles[`${o.pulls[0]!.head}:${file}`] }).toEqual({ file, content: baseline[file] })
}

/** The files a clean run writes, by path: what every faulted run must match. */
export async function cleanBaseline(): Promise<Record<string, string>> {
  const o = await play({ name: 'clean', place: 'create', faults: [], flow: 'collect' })
  const run = o.runs.find((r) => r.label === 'collect')!
  if (run.result.exitCode !== 0) throw new Error(`the clean run failed:\n${run.result.stdout}`)
  const baseline: Record<string, string> = {}
  for (const file of OUTPUTS) baseline[file] = await readFile(path.join(run.result.workspace, file), 'utf8')
  return baseline
}

async function listFiles(root: string, dir = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)))
    else out.push(rel)
  }
  return out
}

/** Runs `tasks` at most `limit` at a time; each result is available as soon as its own task ends. */
export function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Array<Promise<T>> {
  let next = 0
  const settlers: Array<{ resolve: (v: T) => void; reject: (e: unknown) => void }> = []
  const promises = tasks.map(() => new Promise<T>((resolve, reject) => settlers.push({ resolve, reject })))
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++
      await tasks[i]!().then(settlers[i]!.resolve, settlers[i]!.reject)
    }
  }
  for (let i = 0; i < Math.min(limit, tasks.length); i++) void worker()
  // Jest reports each rejection in its own test; none may go unhandled meanwhile.
  for (const p of promises) p.catch(() => {})
  return promises
}
