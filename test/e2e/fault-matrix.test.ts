/**
 * The fault matrix (issue 6, "Tests"): the bundled action runs submit, the wait, collect and the pull request
 * once per fault and place, against the Batch API simulator and the GitHub fake, and every scenario is held to
 * the same invariants (fault-matrix-harness.ts): at most one batch per chunk; no orphan; every reply written
 * whole and kept exactly once, never another submission's; at most one pull request; every run ends within
 * wait-minutes + 30 s; a failed step's last error says what to do next. When a run leaves work, a follow-up
 * collect (with nothing failing) must finish it.
 *
 * Places are "the n-th call of each kind" (`after: n - 1`); faults are the shared vocabulary of
 * test/support/faults.ts. Scenarios run four at a time, each against its own stand-ins.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { TRUNCATED_JSON, type Fault, type FaultKind, type FaultMatch } from '../support/faults.js'
import {
  atMostOneBatchPerChunk,
  cleanBaseline,
  endedInTime,
  endState,
  failureSaysWhatToDo,
  filesAreWhole,
  keptOnce,
  noOrphan,
  play,
  pool,
  type Outcome,
  type Place,
  type Scenario
} from './fault-matrix-harness.js'

// Batch API calls.
const MODELS = /^\/v1\/models/
const COUNT = '/v1/messages/count_tokens'
const BATCHES = '/v1/messages/batches' // POST creates, GET lists
const RETRIEVE = /^\/v1\/messages\/batches\/msgbatch_[^/?]+$/
const RESULTS = /^\/v1\/messages\/batches\/msgbatch_[^/?]+\/results$/
// GitHub: the artifact service (Twirp, blob storage) and the REST API.
const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/'
const CREATE_ARTIFACT = `${TWIRP}CreateArtifact`
const FINALIZE = `${TWIRP}FinalizeArtifact`
const LIST_TWIRP = `${TWIRP}ListArtifacts`
const LIST_REST = /\/actions\/artifacts\?/
const ZIP = /\/actions\/artifacts\/\d+\/zip$/
const BLOB = /^\/blob-download\//
const REFS = /\/git\/refs?(\/|$)/
const TREES = /\/git\/trees/
const COMMITS = /\/git\/commits/
const PULLS = /\/pulls/
const LABELS = /\/labels$/

/** A fault without its place: what happens, to which of the matching calls. */
type Spec = FaultKind & Pick<FaultMatch, 'after' | 'times'>
const create = (f: Spec): Fault => ({ method: 'POST', path: BATCHES, ...f })
const list = (f: Spec): Fault => ({ method: 'GET', path: BATCHES, ...f })
const at = (path: Fault['path'], f: Spec, method?: string): Fault => ({ path, ...(method ? { method } : {}), ...f })
const HTML = { kind: 'garble' } as const
const BAD_JSON = { kind: 'garble', body: TRUNCATED_JSON, contentType: 'application/json' } as const
const LOST = { kind: 'lose-answer' } as const
const status = (s: number, times = 1) => ({ kind: 'status', status: s, times }) as const
const delay = (ms: number) => ({ kind: 'delay', ms }) as const

/**
 * A scenario; the bug that makes it fail today, when one does (it then runs as `it.failing`, which fails once
 * the bug is fixed: drop the marker then); `slow` ones start first, so that their waiting overlaps the rest.
 */
type Row = Scenario & { bug?: string; slow?: true }

// Three bugs this matrix found were fixed since: a GitHub retry's unref'd timer let the step exit with code 13
// mid-step (github/retry.ts); a lost CreateArtifact answer made every retry a 409 for 10 minutes
// (state/artifacts.ts); a journal with no batch failed every later collect (commands/collect.ts).

const ROWS: Row[] = [
  // --- Batch API: models (the first call of submit) ---
  { name: 'models overloaded twice', place: 'models', flow: 'collect', faults: [at(MODELS, status(529, 2))] },
  { name: 'models answer an HTML page', place: 'models', flow: 'wait', faults: [at(MODELS, HTML)] },
  { name: 'models answer lost', place: 'models', flow: 'collect', faults: [at(MODELS, LOST)] },

  // --- count_tokens ---
  { name: 'count_tokens 500 three times', place: 'count_tokens', flow: 'collect', faults: [at(COUNT, status(500, 3))] },
  { name: 'count_tokens body cut mid-JSON', place: 'count_tokens', flow: 'collect', faults: [at(COUNT, BAD_JSON)] },
  { slow: true, name: 'count_tokens hangs (its 8 s deadline)', place: 'count_tokens', flow: 'collect', faults: [at(COUNT, { kind: 'hang' })] },

  // --- create (two chunks of two: two creates) ---
  { slow: true, name: '1st create 500, nothing made', place: 'create', flow: 'collect', faults: [create(status(500))] },
  { name: '1st create rate limited', place: 'create', flow: 'collect', faults: [create(status(429))] },
  { name: '2nd create refused (413): half was sent', place: 'create', flow: 'collect', faults: [create({ ...status(413), after: 1 })], end: 'partial' },
  { name: '1st create refused (400): nothing was sent', place: 'create', flow: 'collect', faults: [create(status(400))], end: 'none' },
  { name: "1st create answer lost, another submission's batch around", place: 'create', flow: 'collect', faults: [create(LOST)], interloper: true },
  { name: '2nd create answered 500 after making the batch', place: 'create', flow: 'wait', faults: [create({ kind: 'lose-answer', status: 500, after: 1 })] },
  {
    name: "both create answers lost, same-size chunks, another submission's batch around",
    place: 'create',
    flow: 'collect',
    faults: [create({ ...LOST, times: 2 })],
    interloper: true
  },
  { name: 'create answer lost, single batch already ended', place: 'create', flow: 'wait', split: false, faults: [create(LOST)] },
  { slow: true, name: 'create hangs past its timeout, nothing made', place: 'create', flow: 'wait', faults: [create({ kind: 'hang' })] },
  { name: 'create made the batch but answers after the timeout', place: 'create', flow: 'collect', faults: [create(delay(5_000))], interloper: true },

  // --- list ---
  { name: 'list before create 500 twice', place: 'list', flow: 'collect', faults: [list(status(500, 2))] },
  { name: 'list answers an HTML page', place: 'list', flow: 'wait', faults: [list(HTML)] },
  { name: 'create answer lost, then the list fails 3 times', place: 'list', flow: 'collect', faults: [create(LOST), list({ ...status(503, 3), after: 1 })] },
  {
    name: 'collect reconciles a lost create while the list fails',
    place: 'list',
    flow: 'collect',
    during: 'collect',
    setup: [create(LOST)],
    faults: [list(status(500, 2))],
    interloper: true
  },

  // --- retrieve (status) ---
  { name: 'status 500 four times while waiting', place: 'retrieve', flow: 'wait', faults: [at(RETRIEVE, status(500, 4))] },
  { slow: true, name: 'status never answers while waiting', place: 'retrieve', flow: 'wait', waitMinutes: 0.1, faults: [at(RETRIEVE, { kind: 'hang', times: Infinity })] },
  { name: 'status answer lost at collect', place: 'retrieve', flow: 'collect', during: 'collect', faults: [at(RETRIEVE, LOST)] },
  { name: 'status answers an HTML page at collect', place: 'retrieve', flow: 'collect', during: 'collect', faults: [at(RETRIEVE, HTML)] },
  { slow: true, name: 'status never answers at collect', place: 'retrieve', flow: 'collect', during: 'collect', faults: [at(RETRIEVE, { kind: 'hang', times: Infinity })] },

  // --- results ---
  { name: 'results 500 while waiting', place: 'results', flow: 'wait', faults: [at(RESULTS, status(500))] },
  { name: 'results cut after one line', place: 'results', flow: 'collect', during: 'collect', faults: [at(RESULTS, { kind: 'cut-stream', afterLines: 1 })] },
  { name: 'results cut every time', place: 'results', flow: 'collect', during: 'collect', faults: [at(RESULTS, { kind: 'cut-stream', afterLines: 1, times: 3 })] },
  { name: 'results answer an HTML page', place: 'results', flow: 'collect', during: 'collect', faults: [at(RESULTS, HTML)] },
  { name: 'results answer lost while waiting', place: 'results', flow: 'wait', faults: [at(RESULTS, LOST)] },

  // --- artifact service: CreateArtifact (journal, then manifest at submit; results at collect) ---
  { name: 'journal CreateArtifact refused: nothing spent', place: 'CreateArtifact', flow: 'collect', faults: [at(CREATE_ARTIFACT, status(400))], end: 'none' },
  { name: 'manifest CreateArtifact refused: the journal finds the batches', place: 'CreateArtifact', flow: 'collect', faults: [at(CREATE_ARTIFACT, { ...status(400), after: 1 })] },
  { slow: true, name: 'manifest CreateArtifact answer lost', place: 'CreateArtifact', flow: 'collect', faults: [at(CREATE_ARTIFACT, { ...LOST, after: 1 })] },
  { name: 'results CreateArtifact refused at collect', place: 'CreateArtifact', flow: 'collect', during: 'collect', faults: [at(CREATE_ARTIFACT, status(400))] },
  { name: 'journal CreateArtifact answers an HTML page', place: 'CreateArtifact', flow: 'wait', faults: [at(CREATE_ARTIFACT, HTML)] },

  // --- FinalizeArtifact ---
  { name: 'manifest FinalizeArtifact 500 once', place: 'FinalizeArtifact', flow: 'collect', faults: [at(FINALIZE, { ...status(500), after: 1 })] },
  { name: 'journal FinalizeArtifact answer lost', place: 'FinalizeArtifact', flow: 'wait', faults: [at(FINALIZE, LOST)] },
  { name: 'results FinalizeArtifact answer lost', place: 'FinalizeArtifact', flow: 'collect', during: 'collect', faults: [at(FINALIZE, LOST)] },

  // --- ListArtifacts: Twirp (an upload retry looks for its artifact) and REST (collect finds records) ---
  { name: 'journal Finalize lost, then Twirp ListArtifacts 500', place: 'ListArtifacts', flow: 'collect', faults: [at(FINALIZE, LOST), at(LIST_TWIRP, status(500))] },
  { name: 'REST artifact list 500 at collect', place: 'ListArtifacts', flow: 'collect', during: 'collect', faults: [at(LIST_REST, status(500, 2))] },
  { name: 'REST artifact list answer lost (the results check)', place: 'ListArtifacts', flow: 'collect', during: 'collect', faults: [at(LIST_REST, { ...LOST, after: 1 })] },

  // --- download of the manifest ---
  { name: 'artifact download redirect 500', place: 'download', flow: 'collect', during: 'collect', faults: [at(ZIP, status(500))] },
  { name: 'manifest download cut midway', place: 'download', flow: 'collect', during: 'collect', faults: [at(BLOB, { kind: 'cut-stream' })] },
  { name: 'manifest download answer lost', place: 'download', flow: 'collect', during: 'collect', faults: [at(BLOB, LOST)] },

  // --- the pull request: refs, trees, commits, pulls, labels ---
  { name: 'reading the base ref 500', place: 'refs', flow: 'collect', during: 'collect', faults: [at(REFS, status(500))] },
  { name: 'creating the branch: answer lost after it was made', place: 'refs', flow: 'collect', during: 'collect', faults: [at(REFS, LOST, 'POST')] },
  { name: 'creating the tree: answer lost', place: 'trees', flow: 'collect', during: 'collect', faults: [at(TREES, LOST)] },
  { name: 'creating the commit: answer lost after it was written', place: 'commits', flow: 'collect', during: 'collect', faults: [at(COMMITS, LOST, 'POST')] },
  { name: 'reading the base commit 500', place: 'commits', flow: 'collect', during: 'collect', faults: [at(COMMITS, status(500), 'GET')] },
  { name: 'opening the pull request: answer lost after it was opened', place: 'pulls', flow: 'collect', during: 'collect', faults: [at(PULLS, LOST, 'POST')] },
  { name: 'opening the pull request refused (403)', place: 'pulls', flow: 'collect', during: 'collect', faults: [at(PULLS, status(403), 'POST')] },
  { name: 'opening the pull request 2 s late', place: 'pulls', flow: 'collect', during: 'collect', faults: [at(PULLS, delay(2_000), 'POST')] },
  { name: 'labels 500', place: 'labels', flow: 'collect', during: 'collect', faults: [at(LABELS, status(500))] },
  { name: 'labels answer lost', place: 'labels', flow: 'collect', during: 'collect', faults: [at(LABELS, LOST)] }
]

const CONCURRENCY = 4
let baseline: Promise<Record<string, string>>
let outcomes: Array<Promise<Outcome>>

beforeAll(() => {
  // Started, not awaited: each test waits for its own scenario, so results show as they come.
  baseline = cleanBaseline()
  const order = ROWS.map((_, i) => i).sort((a, b) => Number(Boolean(ROWS[b]!.slow)) - Number(Boolean(ROWS[a]!.slow)))
  const started = pool(
    order.map((i) => () => play(ROWS[i]!)),
    CONCURRENCY
  )
  outcomes = []
  order.forEach((row, k) => {
    outcomes[row] = started[k]!
  })
})

/** Every invariant, in the order a reader would check them; the first that breaks names itself. */
async function checkAll(o: Outcome, base: Record<string, string>): Promise<void> {
  atMostOneBatchPerChunk(o)
  noOrphan(o)
  await filesAreWhole(o, base)
  keptOnce(o, base)
  endedInTime(o)
  failureSaysWhatToDo(o)
  endState(o, base)
  // The scenario tested what it says: each fault it injected was hit.
  expect(o.unfired).toBe(0)
}

describe('fault matrix', () => {
  ROWS.forEach((row, i) => {
    const test = row.bug ? it.failing : it
    test(`${row.place}: ${row.name}`, async () => {
      const [base, o] = await Promise.all([baseline, outcomes[i]!])
      try {
        await checkAll(o, base)
      } catch (error) {
        // What the runs said, to see why without running the scenario again.
        const log = o.runs.map(
          (r) =>
            `--- ${r.label} (exit ${r.result.exitCode}, ${r.ms} ms)\n${r.result.stdout
              .split('\n')
              .filter((l) => !l.startsWith('::debug::'))
              .join('\n')}`
        )
        ;(error as Error).message += `\n\n${log.join('\n')}`
        throw error
      }
    }, 300_000)
  })

  it('covers every place and every kind of fault', () => {
    const places: Place[] = [
      'models',
      'count_tokens',
      'create',
      'list',
      'retrieve',
      'results',
      'CreateArtifact',
      'FinalizeArtifact',
      'ListArtifacts',
      'download',
      'refs',
      'trees',
      'commits',
      'pulls',
      'labels'
    ]
    expect(places.filter((p) => !ROWS.some((r) => r.place === p))).toEqual([])
    const kinds = new Set(ROWS.flatMap((r) => [...r.faults, ...(r.setup ?? [])].map((f) => f.kind)))
    expect([...kinds].sort()).toEqual(['cut-stream', 'delay', 'garble', 'hang', 'lose-answer', 'status'])
    expect(ROWS.length).toBeGreaterThanOrEqual(40)
  })
})
