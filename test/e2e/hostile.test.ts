/**
 * A hostile user and a hostile environment against the trust machinery of issue 6 (journal and
 * reconciliation, collect by batch-id without a manifest, candidates after a lost create, proof by result
 * ids, status and cancel over journals, branch ownership), through the bundled action.
 *
 * Each test shows that a guarantee holds under that attack; those whose comment says "was a bug" failed
 * before the fix that followed the attack.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { GitHubFake } from '../support/github-fake.js'
import { makeWorkspace } from '../support/run-action.js'
import { artifactNames, exists, Proxy, step, type ProxyHooks, type Stands } from './hostile-harness.js'

let stands: Stands | undefined
let proxy: Proxy | undefined
afterEach(async () => {
  await proxy?.close()
  await stands?.simulator.close()
  await stands?.github.close()
  stands = undefined
  proxy = undefined
})

async function start(processingMs = 0, hooks?: ProxyHooks): Promise<Stands> {
  const simulator = await BatchSimulator.start({ processingMs })
  const github = await GitHubFake.start()
  if (hooks) proxy = await Proxy.start(simulator.url, hooks)
  stands = { simulator, github, apiUrl: proxy?.url ?? simulator.url }
  return stands
}

const CREATE = { method: 'POST', path: '/v1/messages/batches' } as const
// The journal is the run's first artifact; every later one (the manifest) fails for good.
const MANIFEST_UPLOAD_FAILS = {
  path: '/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
  after: 1,
  times: Infinity,
  kind: 'status',
  status: 400,
  errorType: 'invalid_argument'
} as const

describe('a journal whose submission never sent anything', () => {
  it('does not fail every later collect, forever', async () => {
    // Was a bug, fixed: a submit whose create is refused (or whose job is cancelled between journal and create)
    // leaves its journal artifact. Every later collect reconciles it, finds no batch, reports it as
    // `failed` ("nothing was sent. Run submit again.") and exits 1: on every scheduled run, until
    // the artifact expires (up to 90 days), whatever else it collected. Once the journal's create
    // window has passed with no batch in the list, it should be settled (marked, like a results
    // artifact does) and reported once, not fail the step again and again.
    // Fix: src/commands/collect.ts finish()/collectOne (settle a journal with no batch after its window),
    // or src/commands/submit.ts (mark the journal abandoned when create definitely made nothing).
    const s = await start()
    s.simulator.injectFault({ ...CREATE, kind: 'status', status: 400 })
    const files = { 'prompts/a.md': 'A.\n' }
    const submitted = await step(s, s.github.addRun(), await makeWorkspace(files), {})
    expect(submitted.exitCode).toBe(1)
    expect(s.simulator.batches()).toHaveLength(0)
    expect(artifactNames(s.github).some((n) => n.startsWith('claude-batch-journal-'))).toBe(true)

    const first = await step(s, s.github.addRun({ event: 'schedule' }), await makeWorkspace(files), { command: 'collect' })
    // It may be said once...
    expect(first.stdout).toMatch(/nothing was sent/)
    // ...but the next scheduled collect, with nothing at all to do, must not fail again.
    const second = await step(s, s.github.addRun({ event: 'schedule' }), await makeWorkspace(files), { command: 'collect' })
    expect(second.exitCode).toBe(0)
  })
})

describe('collect with the batch-id of a split submission', () => {
  it('does not mark the whole submission collected when only its second batch was named', async () => {
    // Was a bug, fixed: a manifest is named after its FIRST batch only, so `collect` with the batch-id of the
    // second batch (it is in the `batch-ids` output) finds no manifest and rebuilds the plan from
    // the checkout. It collects that one batch, then uploads the submission's results artifact,
    // which marks the whole submission collected: the first batch's replies (and the data file
    // outputs) are never written, by this run or any later one. The first batch is orphaned.
    // Should: find the submission's record by the tag of the batch's results (or by any batch the
    // manifest lists), or, when rebuilding, not mark the submission collected while other chunks
    // of it are not. Fix: src/commands/common.ts discover() (match every batch a record names,
    // or the tag), and src/commands/collect.ts collectWithoutManifest/keepResults.
    const s = await start()
    const files = { 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }
    const split = { CLAUDE_BATCH_TEST_MAX_REQUESTS: '1' }
    const submitted = await step(s, s.github.addRun(), await makeWorkspace(files), {}, split)
    expect(submitted.exitCode).toBe(0)
    const ids = JSON.parse(submitted.outputs['batch-ids']!) as string[]
    expect(ids).toHaveLength(2)

    const byId = await makeWorkspace(files)
    const one = await step(s, s.github.addRun(), byId, { command: 'collect', 'batch-id': ids[1]! }, split)
    expect(one.exitCode).toBe(0)

    // A later scheduled collect must still collect the first batch.
    const later = await makeWorkspace(files)
    const rest = await step(s, s.github.addRun({ event: 'schedule' }), later, { command: 'collect' }, split)
    const written = [...((await exists(path.join(byId, 'generated/a.md'))) ? ['a'] : []), ...((await exists(path.join(later, 'generated/a.md'))) ? ['a'] : [])]
    expect({ exit: rest.exitCode, written }).toEqual({ exit: 0, written: ['a'] })
  })
})

describe('cancel all', () => {
  it('still cancels every other batch when one pending record no longer fits the checkout', async () => {
    // Was a bug, fixed: cancel's ownBatches() reads every pending record with planFromManifest, outside any
    // try: one record that does not pass (here: its output path is now a directory in the checkout
    // cancel runs in; equally a tampered or corrupt manifest) throws, and `cancel all` fails
    // with a raw message having canceled NOTHING, while the batches keep running and billing.
    // Should: cancel everything it can prove its own, and report the record it could not read.
    // Fix: src/commands/cancel.ts ownBatches (per-candidate try/catch, as status.ts has; and it only
    // needs the batch list, not the output paths checked against this checkout).
    const s = await start(60_000)
    const a = await step(s, s.github.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    const b = await step(s, s.github.addRun(), await makeWorkspace({ 'prompts/b.md': 'B.\n' }), {})
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' })
    await mkdir(path.join(workspace, 'generated/a.md'), { recursive: true })
    const result = await step(s, s.github.addRun({ event: 'workflow_dispatch' }), workspace, { command: 'cancel', 'batch-id': 'all', 'fail-on-error': 'false' })
    expect(s.simulator.batches().find((x) => x.id === b.outputs['batch-id'])!.processingStatus).toBe('ended')
    expect(result.stdout).toContain(a.outputs['batch-id'])
  })

  it("says so when a journal-only submission's batches could not be canceled", async () => {
    // Was a bug, fixed: the manifest upload failed (the step failed and said so), so the only record is the
    // journal, which holds no batch id. `cancel all` reads it, finds no batch, cancels nothing and
    // says nothing about it: the log reads as if every pending batch was canceled, while this one
    // runs on and is billed. Should: reconcile the journal (as status does) and either cancel what
    // it can prove, or warn by name that this submission's batch was not canceled and how to do it.
    // Fix: src/commands/cancel.ts ownBatches (use reconcile() for unfinished records; warn).
    const s = await start(60_000)
    s.github.injectFault(MANIFEST_UPLOAD_FAILS)
    const submitted = await step(s, s.github.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), {})
    expect(submitted.exitCode).toBe(1)
    const batchId = submitted.outputs['batch-id']!
    expect(batchId).toMatch(/^msgbatch_/)
    s.github.clearFaults()
    // cancel then waits at least two minutes for what it canceled: what matters is said before that.
    const result = await step(
      s,
      s.github.addRun({ event: 'workflow_dispatch' }),
      await makeWorkspace({ 'prompts/a.md': 'A.\n' }),
      { command: 'cancel', 'batch-id': 'all', 'fail-on-error': 'false' },
      {},
      8_000
    )
    const canceled = s.simulator.batches()[0]!.processingStatus !== 'in_progress'
    const warned = result.annotations.some((x) => x.level !== 'notice' && x.message.includes(batchId))
    expect(canceled || warned).toBe(true)
  })
})

/** Result lines (JSONL) as objects, and back. */
const lines = (body: Buffer) =>
  body
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { custom_id: string; result: unknown })
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
const isResults = (path: string) => /\/v1\/messages\/batches\/[^/?]+\/results/.test(path)
const logOf = (r: { stdout: string; stderr: string }) =>
  (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => !l.startsWith('::debug::') && !l.startsWith('::add-mask::'))
    .join('\n')

describe('results the API should never send', () => {
  it('duplicate result lines: nothing is written, and the step fails', async () => {
    const s = await start(0, { rewrite: (call, status, body) => (isResults(call.path) && status === 200 ? jsonl([...lines(body), lines(body)[0]]) : body) })
    const files = { 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }
    await step(s, s.github.addRun(), await makeWorkspace(files), {})
    const workspace = await makeWorkspace(files)
    const collected = await step(s, s.github.addRun(), workspace, { command: 'collect' })
    expect(collected.exitCode).toBe(1)
    expect(await exists(path.join(workspace, 'generated'))).toBe(false)
    expect(collected.stdout).toMatch(/appears twice/)
  })

  it('duplicate or missing result lines are not blamed on the manifest, with advice to delete it', async () => {
    // Was a bug, fixed: when a batch's results do not match what was sent (a duplicate line, a missing line, a
    // line from another tag after the first), collect marks the submission "rejected" and fails
    // with "A submission record was rejected ... it names paths or batches this repository's
    // submissions cannot have. Find out who uploaded it, and delete the artifact." The record is
    // fine; the results are what is wrong. A user who follows the advice deletes the only record
    // of a paid batch, which then can never be collected. Should: say the batch's results do not
    // match what was sent, that nothing was written, and keep the record.
    // Fix: src/commands/collect.ts finish() (a results mismatch is not a rejected record) and report().
    const s = await start(0, { rewrite: (call, status, body) => (isResults(call.path) && status === 200 ? jsonl(lines(body).slice(1)) : body) })
    const files = { 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }
    await step(s, s.github.addRun(), await makeWorkspace(files), {})
    const collected = await step(s, s.github.addRun(), await makeWorkspace(files), { command: 'collect' })
    expect(collected.exitCode).toBe(1)
    expect(logOf(collected)).toMatch(/1 result lines for 2 requests/)
    expect(logOf(collected)).not.toMatch(/delete the artifact/)
  })

  it('a created batch whose results start with a foreign line is not "never sent"', async () => {
    // Was a bug, fixed: a batch whose create was answered (verified) is declared "not this submission's" when
    // the first line of its results carries another tag, and its requests are then reported as
    // "never submitted ... Run submit again to send them": the user pays a second time for a batch
    // that was sent and may be fine (a proxy or a transient API fault garbled the stream). In
    // collect the submission is then marked collected, so it is never looked at again.
    // Should: for a verified batch, foreign ids are a mismatch (nothing written, left for the next
    // run, "do not submit again"), never "not ours".
    // Fix: src/results/collect.ts download() / src/commands/gather.ts (a verified ref cannot be notOurs).
    const foreign = { custom_id: 'zzzzzzzz_intruder', result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'x' } } } }
    const s = await start(0, { rewrite: (call, status, body) => (isResults(call.path) && status === 200 ? jsonl([foreign, ...lines(body)]) : body) })
    const submitted = await step(s, s.github.addRun(), await makeWorkspace({ 'prompts/a.md': 'A.\n' }), { 'wait-minutes': '1' })
    expect(s.simulator.batches()).toHaveLength(1)
    expect(logOf(submitted)).not.toMatch(/never submitted|Run submit again/)
  })

  it('a batch of another tag mixed into ours after the first line: nothing written', async () => {
    const foreign = { custom_id: 'zzzzzzzz_intruder', result: { type: 'succeeded', message: { content: [{ type: 'text', text: 'EVIL' }] } } }
    const s = await start(0, { rewrite: (call, status, body) => (isResults(call.path) && status === 200 ? jsonl([...lines(body), foreign]) : body) })
    const files = { 'prompts/a.md': 'A.\n', 'prompts/b.md': 'B.\n' }
    await step(s, s.github.addRun(), await makeWorkspace(files), {})
    const workspace = await makeWorkspace(files)
    const collected = await step(s, s.github.addRun(), workspace, { command: 'collect' })
    expect(collected.exitCode).toBe(1)
    expect(await exists(path.join(workspace, 'generated'))).toBe(false)
  })
})

describe('a results_url that points elsewhere', () => {
  it('the API key is not sent to another host', async () => {
    // Was a bug (hostile environment), fixed: the results are fetched from the batch's `results_url` exactly as
    // the answer gives it (the SDK's results() follows it with the client's own headers), so an
    // answer naming another host, from a compromised proxy at anthropic-base-url or a rewritten
    // answer, receives the API key (as `authorization: Bearer …`), four times over with the retries. Should: refuse a results_url whose origin is not the
    // API's (anthropic-base-url), or fetch it without the key. Fix: src/anthropic/results.ts
    // openResults (check the batch's results_url origin before calling results()).
    const seen: string[] = []
    const { createServer } = await import('node:http')
    const thief = createServer((req, res) => {
      seen.push(JSON.stringify(req.headers))
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', () => resolve()))
    const thiefUrl = `http://127.0.0.1:${(thief.address() as { port: number }).port}`
    try {
      const s = await start(0, {
        rewrite: (call, status, body) => {
          if (call.method !== 'GET' || !/^\/v1\/messages\/batches\/[^/?]+$/.test(call.path) || status !== 200) return body
          const batch = JSON.parse(body.toString('utf8'))
          if (batch.results_url) batch.results_url = `${thiefUrl}/steal/${batch.id}/results`
          return JSON.stringify(batch)
        }
      })
      const workspace = await makeWorkspace({ 'prompts/a.md': 'A.\n' })
      // The first look at the results is enough: the step is stopped after that.
      await step(s, s.github.addRun(), workspace, { 'wait-minutes': '0.1' }, {}, 5_000)
      // The key must not reach it, whichever header carries it (the client sends it as a Bearer token).
      expect(seen.filter((headers) => headers.includes(DEFAULT_API_KEY))).toEqual([])
    } finally {
      thief.closeAllConnections()
      await new Promise<void>((resolve) => thief.close(() => resolve()))
    }
  })
})

/** Creates a batch of another submission (another repository sharing the key), straight at the simulator. */
async function foreignBatch(url: string, prompts: string[]): Promise<string> {
  const requests = prompts.map((text, i) => ({
    custom_id: `zzzzzzzz_prompts-${i}`,
    params: { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: text }] }
  }))
  const response = await fetch(`${url}/v1/messages/batches`, {
    method: 'POST',
    headers: { 'x-api-key': DEFAULT_API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ requests })
  })
  return ((await response.json()) as { id: string }).id
}

describe('two submissions of the same size at the same moment', () => {
  it("a lost create next to another run's batch of its size: only its own replies are written", async () => {
    let other: string | undefined
    const s = await start(0, {
      // Another run's create lands while this one's is in flight; this one's answer is then lost.
      before: async (call) => {
        if (call.method === 'POST' && call.path === '/v1/messages/batches' && !other) other = await foreignBatch(stands!.simulator.url, ['Zanzibar secret plan.'])
      }
    })
    s.simulator.injectFault({ ...CREATE, after: 1, kind: 'lose-answer', status: 500 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Describe a teapot.\n' })
    const submitted = await step(s, s.github.addRun(), workspace, { 'wait-minutes': '1' })
    expect(s.simulator.batches()).toHaveLength(2)
    expect(submitted.exitCode).toBe(0)
    expect(logOf(submitted)).toContain(`${other} is not this submission's batch`)
    expect(await readFile(path.join(workspace, 'generated/a.md'), 'utf8')).not.toMatch(/Zanzibar/)

    // The wait proved its own batch and wrote its reply: the submission is collected (its results
    // artifact), so a later collect takes nothing, least of all the other run's batch.
    expect(submitted.outputs['results-artifact-id']).toBeDefined()
    const later = await makeWorkspace({ 'prompts/a.md': 'Describe a teapot.\n' })
    const collected = await step(s, s.github.addRun(), later, { command: 'collect' })
    expect(collected.exitCode).toBe(0)
    expect(collected.stdout).toMatch(/0 pending submission\(s\) found/)
    expect(await exists(path.join(later, 'generated/a.md'))).toBe(false)
  })

  it("a journal with no batch of its own, and another repository's batch of its size in its window: nothing written", async () => {
    const s = await start()
    s.simulator.injectFault({ ...CREATE, kind: 'status', status: 400 })
    const files = { 'prompts/a.md': 'Describe a teapot.\n' }
    const submitted = await step(s, s.github.addRun(), await makeWorkspace(files), {})
    expect(submitted.exitCode).toBe(1)
    const other = await foreignBatch(s.simulator.url, ['Zanzibar secret plan.'])
    const workspace = await makeWorkspace(files)
    const collected = await step(s, s.github.addRun(), workspace, { command: 'collect' })
    expect(await exists(path.join(workspace, 'generated'))).toBe(false)
    expect(logOf(collected)).toContain(`${other} is not this submission's batch`)
  })
})

describe('collect with a batch-id that no record of this repository names', () => {
  it("does not write another repository's replies because its files have the same names", async () => {
    // Was a bug, fixed: two repositories share an API key (an organisation secret). `collect` with the batch-id
    // of the OTHER repository's batch finds no record here, reads the tag from the batch's results
    // and rebuilds the plan from this checkout with that tag. custom_ids are derived from file
    // paths, not content, so prompts/a.md here and prompts/a.md there give the same ids: the
    // "proof" passes, and the other repository's reply (to a prompt this repository never had) is
    // written into generated/a.md and kept as collected. The same happens from a checkout at
    // another commit whose prompts were edited. Should: without a record, ids alone are not proof;
    // refuse (or require the record's commit / a content hash in the record), or at least never
    // when the batch's tag has no journal or manifest in this repository.
    // Fix: src/commands/collect.ts collectWithoutManifest (look up a record by the tag; check the
    // commit), and/or src/plan/custom-ids.ts (an id that commits to the request's content).
    const s = await start()
    const elsewhere = await GitHubFake.start({ repo: 'someone-elses-repo' })
    try {
      const theirs = await step({ ...s, github: elsewhere }, elsewhere.addRun(), await makeWorkspace({ 'prompts/a.md': 'Zanzibar secret plan.\n' }), {})
      expect(theirs.exitCode).toBe(0)
      const workspace = await makeWorkspace({ 'prompts/a.md': 'Describe a teapot.\n' })
      await step(s, s.github.addRun(), workspace, { command: 'collect', 'batch-id': theirs.outputs['batch-id']! })
      const written = (await exists(path.join(workspace, 'generated/a.md'))) ? await readFile(path.join(workspace, 'generated/a.md'), 'utf8') : ''
      expect(written).not.toMatch(/Zanzibar/)
    } finally {
      await elsewhere.close()
    }
  })
})
