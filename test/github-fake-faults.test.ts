/**
 * Every fault kind of the GitHub fake, as the real clients see it: octokit from `@actions/github` for the REST
 * calls the pull request makes (refs, trees, commits, pulls, labels) and `@actions/artifact` for the artifact
 * service (CreateArtifact, FinalizeArtifact, ListArtifacts, the blob download). Each fault hits the third call
 * (`after: 2`). Where the real client's own reaction is surprising (it hangs, or reports success) the test pins
 * that too: the action has to defend against exactly that.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import type { FaultKind, FaultMatch } from './support/faults.js'
import { FAKE_TOKEN, GitHubFake, type FakeFault, type FakeRun } from './support/github-fake.js'

type ArtifactModule = typeof import('@actions/artifact')
type GitHubModule = typeof import('@actions/github')
type Octokit = ReturnType<GitHubModule['getOctokit']>

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService'

let artifact: ArtifactModule
let github: GitHubModule
/** The fake the clients' import-time GITHUB_API_URL points at (only `findBy` needs it). */
let shared: GitHubFake
let savedApiUrl: string | undefined
const fakes: GitHubFake[] = []
const tempDirs: string[] = []

beforeAll(async () => {
  shared = await GitHubFake.start()
  savedApiUrl = process.env.GITHUB_API_URL
  process.env.GITHUB_API_URL = shared.url
  artifact = await import('@actions/artifact')
  github = await import('@actions/github')
})

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close().catch(() => undefined)))
})

afterAll(async () => {
  if (savedApiUrl === undefined) delete process.env.GITHUB_API_URL
  else process.env.GITHUB_API_URL = savedApiUrl
  await shared.close()
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function fresh(): Promise<GitHubFake> {
  const fake = await GitHubFake.start()
  fakes.push(fake)
  return fake
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'github-fake-faults-'))
  tempDirs.push(dir)
  return dir
}

type Settled = { value?: unknown; error?: Error & { status?: number; cause?: unknown } }

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Settled['error'] })
  )
}

/** Settles within `ms`, or reports that the promise is still pending (a client that never gives up). */
function within(promise: Promise<unknown>, ms: number): Promise<Settled | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)))
  return Promise.race([settle(promise), pending]).finally(() => clearTimeout(timer))
}

const statusesOf = (fake: GitHubFake, test: (path: string) => boolean): number[] => fake.calls.filter((c) => test(c.path)).map((c) => c.status)

// ---------------------------------------------------------------------------------------------------------------
// REST through octokit

interface RestOp {
  name: string
  match: Required<Pick<FaultMatch, 'method' | 'path'>>
  /** Prepares a fresh fake; returns the n-th call (n = 0, 1, …) and a measure of the work done so far. */
  setup: (fake: GitHubFake, octokit: Octokit) => Promise<{ call: (n: number, signal?: AbortSignal) => Promise<unknown>; work: () => unknown }>
}

function repoOf(fake: GitHubFake): { owner: string; repo: string } {
  const [owner = '', repo = ''] = fake.repository.split('/')
  return { owner, repo }
}

const REST_OPS: RestOp[] = [
  {
    name: 'refs update',
    match: { method: 'PATCH', path: /\/git\/refs\// },
    setup: async (fake, octokit) => {
      const base = fake.branch('main')!.sha
      const chain = [1, 2, 3, 4, 5].map((n) => fake.pushFile('main', 'chain.txt', String(n)))
      await octokit.rest.git.createRef({ ...repoOf(fake), ref: 'refs/heads/work', sha: base })
      return {
        call: (n, signal) => octokit.rest.git.updateRef({ ...repoOf(fake), ref: 'heads/work', sha: chain[n]!, request: { signal } }),
        work: () => chain.indexOf(fake.branch('work')!.sha) + 1 // how many updates took effect
      }
    }
  },
  {
    name: 'trees',
    match: { method: 'POST', path: /\/git\/trees$/ },
    setup: async (fake, octokit) => {
      const baseTree = fake.commit(fake.branch('main')!.sha)!.tree
      const tree = (n: number) => [{ path: `out/${n}.md`, mode: '100644' as const, type: 'blob' as const, content: `reply ${n}` }]
      return {
        call: (n, signal) => octokit.rest.git.createTree({ ...repoOf(fake), base_tree: baseTree, tree: tree(n), request: { signal } }),
        work: () => fake.gitObjectCount('tree')
      }
    }
  },
  {
    name: 'commits',
    match: { method: 'POST', path: /\/git\/commits$/ },
    setup: async (fake, octokit) => {
      const parent = fake.branch('main')!.sha
      const tree = fake.commit(parent)!.tree
      return {
        call: (n, signal) => octokit.rest.git.createCommit({ ...repoOf(fake), message: `Batch results ${n}`, tree, parents: [parent], request: { signal } }),
        work: () => fake.gitObjectCount('commit')
      }
    }
  },
  {
    name: 'pulls',
    match: { method: 'POST', path: /\/pulls$/ },
    setup: async (fake, octokit) => {
      const base = fake.branch('main')!.sha
      for (const n of [0, 1, 2, 3]) {
        await octokit.rest.git.createRef({ ...repoOf(fake), ref: `refs/heads/results-${n}`, sha: base })
        fake.pushFile(`results-${n}`, 'out.md', String(n))
      }
      return {
        call: (n, signal) => octokit.rest.pulls.create({ ...repoOf(fake), head: `results-${n}`, base: 'main', title: `Results ${n}`, request: { signal } }),
        work: () => fake.pulls().length
      }
    }
  },
  {
    name: 'labels',
    match: { method: 'POST', path: /\/labels$/ },
    setup: async (fake, octokit) => {
      await octokit.rest.git.createRef({ ...repoOf(fake), ref: 'refs/heads/results', sha: fake.branch('main')!.sha })
      fake.pushFile('results', 'out.md', 'x')
      await octokit.rest.pulls.create({ ...repoOf(fake), head: 'results', base: 'main', title: 'Results' })
      return {
        call: (n, signal) => octokit.rest.issues.addLabels({ ...repoOf(fake), issue_number: 1, labels: [`label-${n}`], request: { signal } }),
        work: () => fake.pulls()[0]!.labels.length
      }
    }
  }
]

describe.each(REST_OPS)('REST $name: a fault with after: 2 hits the third call only', (op) => {
  /** Calls 0 and 1 go through; call 2 meets the fault (given `timeoutMs`, the client gives up then). */
  async function third(fault: FaultKind, timeoutMs?: number) {
    const fake = await fresh()
    const octokit = github.getOctokit(FAKE_TOKEN, { baseUrl: fake.url })
    const { call, work } = await op.setup(fake, octokit)
    fake.injectFault({ ...op.match, after: 2, ...fault } as FakeFault)
    await call(0)
    await call(1)
    const workBefore = work()
    const settled = await settle(call(2, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)))
    const matches = (p: string) => (op.match.path as RegExp).test(p)
    return { ...settled, workBefore, workAfter: work(), statuses: statusesOf(fake, matches).slice(-3) }
  }

  it("status: GitHub's error body {message, documentation_url}, nothing done", async () => {
    const { error, workBefore, workAfter, statuses } = await third({ kind: 'status', status: 502 })
    expect(error).toMatchObject({ status: 502, message: expect.stringMatching(/^Server Error/) })
    expect((error as { response?: { data?: unknown } }).response?.data).toMatchObject({
      message: 'Server Error',
      documentation_url: expect.stringMatching(/^https:\/\/docs\.github\.com\//)
    })
    expect(statuses.slice(0, 2)).toEqual([expect.any(Number), expect.any(Number)])
    expect(statuses[2]).toBe(502)
    expect(workAfter).toBe(workBefore)
  })

  it('hang: never answered; octokit gives up only through its signal, nothing done', async () => {
    const { error, workBefore, workAfter, statuses } = await third({ kind: 'hang' }, 150)
    // The DOMException comes from Node's realm, so octokit calls it "Unknown Error" with status 500.
    expect(error).toMatchObject({ status: 500, cause: expect.objectContaining({ name: 'TimeoutError' }) })
    expect(statuses[2]).toBe(0)
    expect(workAfter).toBe(workBefore)
  })

  it('lose-answer: "other side closed", although the work was done', async () => {
    const { error, workBefore, workAfter, statuses } = await third({ kind: 'lose-answer' })
    expect(error).toMatchObject({ status: 500, message: 'other side closed' })
    expect(statuses[2]).toBe(0)
    expect(workAfter).not.toEqual(workBefore)
  })

  it('garble: octokit hands back an HTML string as data with status 200, nothing done', async () => {
    const { value, workBefore, workAfter } = await third({ kind: 'garble' })
    expect(value).toMatchObject({ status: 200, data: expect.stringMatching(/^<html>/) })
    expect(workAfter).toBe(workBefore)
  })

  it('delay: a client that waits less gives up, after the work was done', async () => {
    const { error, workBefore, workAfter } = await third({ kind: 'delay', ms: 400 }, 100)
    expect(error).toMatchObject({ status: 500, cause: expect.objectContaining({ name: 'TimeoutError' }) })
    expect(workAfter).not.toEqual(workBefore)
  })

  it('cut-stream: octokit reports success with empty data (no error!), after the work was done', async () => {
    const { value, error, workBefore, workAfter } = await third({ kind: 'cut-stream' })
    expect(error).toBeUndefined()
    expect(value).toMatchObject({ status: expect.any(Number), data: '' })
    expect([200, 201]).toContain((value as { status: number }).status)
    expect(workAfter).not.toEqual(workBefore)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The artifact service through @actions/artifact

/**
 * Runs `fn` as a step of `run`: the artifact client reads the environment when it is called. @actions/core logs
 * straight to stdout, muted meanwhile.
 */
async function inRun<T>(fake: GitHubFake, run: FakeRun, fn: () => Promise<T>): Promise<T> {
  const env = fake.envFor(run)
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, env)
  const write = process.stdout.write
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

const MANIFEST = '{"submission":"s-1","batches":["msgbatch_01"]}\n'

async function upload(fake: GitHubFake, run: FakeRun, name: string) {
  const dir = await tempDir()
  await writeFile(path.join(dir, 'manifest.json'), MANIFEST)
  return inRun(fake, run, () => new artifact.DefaultArtifactClient().uploadArtifact(name, [path.join(dir, 'manifest.json')], dir))
}

interface ArtifactOp {
  name: string
  path: RegExp
  /** The n-th call of the client operation that goes through `path` once. */
  call: (fake: GitHubFake, run: FakeRun, n: number) => Promise<unknown>
  /** Work done so far, as the fake's store shows it. */
  work: (fake: GitHubFake) => number
}

const ARTIFACT_OPS: ArtifactOp[] = [
  {
    name: 'CreateArtifact',
    path: /CreateArtifact$/,
    call: (fake, run, n) => upload(fake, run, `manifest-${n}`),
    work: (fake) => fake.artifacts().length
  },
  {
    name: 'FinalizeArtifact',
    path: /FinalizeArtifact$/,
    call: (fake, run, n) => upload(fake, run, `manifest-${n}`),
    work: (fake) => fake.artifacts().filter((a) => a.finalized).length
  },
  {
    name: 'ListArtifacts',
    path: /ListArtifacts$/,
    call: (fake, run) => inRun(fake, run, () => new artifact.DefaultArtifactClient().listArtifacts()),
    work: () => 0 // a read: nothing to do
  }
]

describe.each(ARTIFACT_OPS)('artifact $name: a fault with after: 2 hits the third call only', (op) => {
  async function third(fault: FaultKind, whileOpen?: (fake: GitHubFake) => Promise<void>) {
    const fake = await fresh()
    const run = fake.addRun()
    if (op.name === 'ListArtifacts') await upload(fake, run, 'manifest-listed')
    fake.injectFault({ method: 'POST', path: op.path, after: 2, ...fault } as FakeFault)
    await op.call(fake, run, 0)
    await op.call(fake, run, 1)
    const workBefore = op.work(fake)
    const third = op.call(fake, run, 2)
    await whileOpen?.(fake)
    const settled = await within(third, 500)
    return { settled, fake, workBefore, workAfter: op.work(fake), statuses: statusesOf(fake, (p) => op.path.test(p)) }
  }

  it("status: Twirp's {code, msg}; a 403 is not retried, nothing done", async () => {
    const { settled, workBefore, workAfter, statuses } = await third({ kind: 'status', status: 403, message: 'nope' })
    expect(settled).toMatchObject({
      error: { message: `Failed to ${op.name}: Received non-retryable error: Failed request: (403) Forbidden: nope` }
    })
    expect(statuses).toEqual([200, 200, 403])
    expect(workAfter).toBe(workBefore)
  })

  it('hang: the client waits until the service goes away, then fails; nothing done', async () => {
    const { settled, workBefore, workAfter, statuses } = await third({ kind: 'hang' }, async (fake) => {
      while (fake.calls.at(-1)?.status !== 0 || !op.path.test(fake.calls.at(-1)!.path)) await sleep(5)
      expect(await within(sleep(300), 1_000)).toEqual({ value: undefined }) // nothing gives up by itself
      await fake.close()
    })
    expect(settled).toMatchObject({ error: { message: expect.stringMatching(new RegExp(`^Failed to ${op.name}: Unable to make request: ECONNRESET`)) } })
    expect(statuses.at(-1)).toBe(0)
    expect(workAfter).toBe(workBefore)
  })

  it('lose-answer: ECONNRESET (not retried) although the work was done', async () => {
    const { settled, workBefore, workAfter } = await third({ kind: 'lose-answer' })
    expect(settled).toMatchObject({ error: { message: expect.stringMatching(/Unable to make request: ECONNRESET/) } })
    expect(workAfter).toBe(op.name === 'ListArtifacts' ? workBefore : workBefore + 1)
  })

  it('garble: a JSON body of the wrong shape, nothing done', async () => {
    const { settled, workBefore, workAfter } = await third({ kind: 'garble', body: '{"unexpected":true}', contentType: 'application/json' })
    if (op.name === 'ListArtifacts') {
      // The client fills in the missing field: a garbled list looks like "this run has no artifacts".
      expect(settled).toEqual({ value: { artifacts: [] } })
    } else {
      expect(settled).toMatchObject({ error: { message: expect.stringMatching(/response from backend was not ok/) } })
    }
    expect(workAfter).toBe(workBefore)
  })

  it('delay: answered late, the client waits (it has no timeout of its own)', async () => {
    const started = Date.now()
    const { settled, workBefore, workAfter } = await third({ kind: 'delay', ms: 200 })
    expect(settled).toMatchObject({ value: expect.anything() })
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(workAfter).toBe(op.name === 'ListArtifacts' ? workBefore : workBefore + 1)
  })

  it('cut-stream: the client never settles (no deadline of its own), although the work was done', async () => {
    const { settled, workBefore, workAfter } = await third({ kind: 'cut-stream' })
    expect(settled).toBe('pending')
    expect(workAfter).toBe(op.name === 'ListArtifacts' ? workBefore : workBefore + 1)
  })
})

describe('artifact download (blob storage)', () => {
  const BLOB = /^\/blob-download\//

  async function uploaded(fake: GitHubFake): Promise<{ run: FakeRun; id: number }> {
    const run = fake.addRun()
    const { id } = await upload(fake, run, 'manifest')
    return { run, id: id! }
  }

  const download = (fake: GitHubFake, run: FakeRun, id: number, dir: string) => inRun(fake, run, () => new artifact.DefaultArtifactClient().downloadArtifact(id, { path: dir }))

  it('garble on the third download: the client reports success and saves the HTML page as a file', async () => {
    const fake = await fresh()
    const { run, id } = await uploaded(fake)
    fake.injectFault({ method: 'GET', path: BLOB, after: 2, kind: 'garble' })
    for (const _ of [1, 2]) {
      const dir = await tempDir()
      await download(fake, run, id, dir)
      expect(await readFile(path.join(dir, 'manifest.json'), 'utf8')).toBe(MANIFEST)
    }
    const dir = await tempDir()
    await expect(download(fake, run, id, dir)).resolves.toMatchObject({ downloadPath: dir })
    expect(await readdir(dir)).toEqual(['artifact'])
    expect(await readFile(path.join(dir, 'artifact'), 'utf8')).toMatch(/^<html>/)
  })

  it('delay: the download completes late', async () => {
    const fake = await fresh()
    const { run, id } = await uploaded(fake)
    fake.injectFault({ method: 'GET', path: BLOB, kind: 'delay', ms: 200 })
    const dir = await tempDir()
    const started = Date.now()
    await download(fake, run, id, dir)
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(await readFile(path.join(dir, 'manifest.json'), 'utf8')).toBe(MANIFEST)
  })

  it('status on GetSignedArtifactURL (the step before the blob): a 403 fails the download at once', async () => {
    const fake = await fresh()
    const { run, id } = await uploaded(fake)
    fake.injectFault({ path: `${TWIRP}/GetSignedArtifactURL`, kind: 'status', status: 403 })
    const { error } = await settle(download(fake, run, id, await tempDir()))
    expect(error?.message).toMatch(/Failed to GetSignedArtifactURL: Received non-retryable error: Failed request: \(403\)/)
  })

  it('status, lose-answer, cut-stream and hang on the blob itself, as any HTTP client sees them', async () => {
    // The real client retries a failed blob download 5 times, 5 s apart, and waits 30 s for a stalled body:
    // too slow for a unit test, so the blob faults are checked with fetch, on the third download of the blob.
    const fake = await fresh()
    const { id } = await uploaded(fake)
    const octokit = github.getOctokit(FAKE_TOKEN, { baseUrl: fake.url })
    const { headers } = await octokit.rest.actions.downloadArtifact({
      ...repoOf(fake),
      artifact_id: id,
      archive_format: 'zip',
      request: { redirect: 'manual' }
    })
    const blobUrl = headers.location!
    const size = (await (await fetch(blobUrl)).arrayBuffer()).byteLength
    const kinds: FaultKind[] = [{ kind: 'status', status: 503, errorType: 'ServerBusy' }, { kind: 'lose-answer' }, { kind: 'cut-stream', afterBytes: 10 }, { kind: 'hang' }]
    const seen: unknown[] = []
    for (const fault of kinds) {
      fake.injectFault({ method: 'GET', path: BLOB, after: 2, ...fault } as FakeFault)
      for (const _ of [1, 2]) expect((await (await fetch(blobUrl)).arrayBuffer()).byteLength).toBe(size)
      const answer = await settle(
        fetch(blobUrl, { signal: AbortSignal.timeout(200) }).then(async (r) => ({
          status: r.status,
          code: r.headers.get('x-ms-error-code'),
          bytes: (await r.arrayBuffer()).byteLength
        }))
      )
      // fetch says "fetch failed" before the headers and "terminated" mid-body; the hang ends at our timeout.
      seen.push(answer.error ? (answer.error.name === 'TimeoutError' ? 'TimeoutError' : answer.error.message) : answer.value)
    }
    expect(seen).toEqual([{ status: 503, code: 'ServerBusy', bytes: expect.any(Number) }, 'fetch failed', 'terminated', 'TimeoutError'])
  })
})

describe("the GitHub fake's fault bookkeeping", () => {
  it('records every call with the status answered, and times: Infinity keeps hitting until cleared', async () => {
    const fake = await fresh()
    const octokit = github.getOctokit(FAKE_TOKEN, { baseUrl: fake.url })
    fake.injectFault({ method: 'GET', path: /\/git\/ref\//, after: 1, times: Infinity, kind: 'status', status: 500 })
    const getMain = () => settle(octokit.rest.git.getRef({ ...repoOf(fake), ref: 'heads/main' }))
    const results = [await getMain(), await getMain(), await getMain()]
    expect(results.map((r) => r.error?.status ?? 200)).toEqual([200, 500, 500])
    fake.clearFaults()
    expect((await getMain()).error).toBeUndefined()
    expect(fake.calls.filter((c) => c.path.includes('/git/ref/')).map((c) => `${c.method} ${c.status}`)).toEqual(['GET 200', 'GET 500', 'GET 500', 'GET 200'])
  })
})

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
