/**
 * Finding, downloading and uploading artifacts under transient faults: the real artifact client
 * uploads to the GitHub fake in-process; listing and downloading go through a fetch that injects
 * faults (see test/github/faulty-fetch.ts); the upload's retry logic is tested on a stub client.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { getOctokit } from '@actions/github'
import { FAKE_TOKEN, GitHubFake } from '../support/github-fake.js'
import {
  ArtifactUnavailableError,
  downloadManifest,
  findPendingArtifacts,
  LISTING_HORIZON_MS,
  ManifestContentError,
  resultsExist,
  uploadArtifact,
  type ArtifactUploader
} from '../../src/state/artifacts.js'
import { manifestName, resultsName } from '../../src/state/manifest.js'
import type { CallLimits } from '../../src/github/retry.js'
import { faultyFetch, type FaultRule } from '../github/faulty-fetch.js'

const LIMITS: CallLimits = { timeoutMs: 1_000, deadlineMs: 6_000, minDelayMs: 5, maxDelayMs: 20 }
let github: GitHubFake
let owner: string
let repo: string
const saved = { ...process.env }

/** Uploads `files` as artifact `name` of a new run, with the real artifact client. */
async function upload(name: string, files: Record<string, string>): Promise<number> {
  Object.assign(process.env, github.envFor(github.addRun()))
  const dir = await mkdtemp(path.join(tmpdir(), 'cba-artifact-'))
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content)
  const id = await uploadArtifact(
    name,
    Object.keys(files).map((f) => path.join(dir, f)),
    dir,
    1,
    { limits: LIMITS }
  )
  return id!
}

beforeAll(async () => {
  github = await GitHubFake.start()
  ;[owner, repo] = github.repository.split('/') as [string, string]
  await upload(manifestName('aaaaaaaa', 'msgbatch_a'), { 'manifest.json': JSON.stringify({ version: 1, batches: [{ id: 'msgbatch_a' }] }) })
  await upload(manifestName('bbbbbbbb', 'msgbatch_b'), { 'manifest.json': JSON.stringify({ version: 1, batches: [{ id: 'msgbatch_b' }] }) })
  await upload(resultsName('bbbbbbbb'), { 'results.jsonl': '{}\n' })
  await upload(manifestName('cccccccc', 'msgbatch_bad'), { 'manifest.json': '{"version": 1, "batches": [' })
})
afterAll(async () => {
  process.env = saved
  await github.close()
})

function client(rules: FaultRule[] = []) {
  const faults = faultyFetch(rules)
  return { octokit: getOctokit(FAKE_TOKEN, { baseUrl: github.url, request: { fetch: faults.fetch } }), faults }
}
const find = () => ({ token: FAKE_TOKEN, owner, repo })

describe('findPendingArtifacts', () => {
  it('lists the manifests not collected yet, through a 502 and an HTML page with status 200', async () => {
    const { octokit, faults } = client([
      { path: /\/actions\/artifacts/, fault: { kind: 'status', status: 502 } },
      { path: /\/actions\/artifacts/, fault: { kind: 'html' }, skip: 1 }
    ])
    const pending = await findPendingArtifacts(octokit, owner, repo, { limits: LIMITS })
    expect(pending.map((c) => c.batchId).sort()).toEqual(['msgbatch_a', 'msgbatch_bad'])
    expect(faults.faulted).toHaveLength(2)
  })
})

describe('how far the artifact list is paged', () => {
  it('stops at the first page older than the horizon instead of paging every artifact of the repository', async () => {
    const fake = await GitHubFake.start()
    try {
      const [o, r] = fake.repository.split('/') as [string, string]
      const run = fake.addRun()
      const old = Date.now() - LISTING_HORIZON_MS - 86_400_000
      // 250 old artifacts of other workflows, then 150 recent ones and one pending manifest.
      for (let i = 0; i < 250; i++) fake.addArtifact(`coverage-${i}`, run, old + i)
      for (let i = 0; i < 150; i++) fake.addArtifact(`build-${i}`, run)
      fake.addArtifact(manifestName('dddddddd', 'msgbatch_d'), run)
      const octokit = getOctokit(FAKE_TOKEN, { baseUrl: fake.url })
      const pending = await findPendingArtifacts(octokit, o, r, { limits: LIMITS })
      expect(pending.map((c) => c.batchId)).toEqual(['msgbatch_d'])
      // Pages 1-2 hold the recent ones, page 3 is the first wholly old one; pages 4-5 are never asked for.
      expect(fake.calls.filter((c) => c.path.includes('/actions/artifacts'))).toHaveLength(3)
    } finally {
      await fake.close()
    }
  })

  it('finds a results artifact by its exact name, not a longer one that starts with it', async () => {
    const fake = await GitHubFake.start()
    try {
      const [o, r] = fake.repository.split('/') as [string, string]
      fake.addArtifact(`${resultsName('eeeeeeee')}-copy`, fake.addRun())
      const octokit = getOctokit(FAKE_TOKEN, { baseUrl: fake.url })
      expect(await resultsExist(octokit, o, r, resultsName('eeeeeeee'), LIMITS)).toBe(false)
      expect(fake.calls.map((c) => c.path)).toEqual([`/repos/${fake.repository}/actions/artifacts?per_page=100&name=${resultsName('eeeeeeee')}`])
    } finally {
      await fake.close()
    }
  })
})

describe('resultsExist', () => {
  it('tells a collected submission from one that is not, through a dropped connection', async () => {
    const { octokit } = client([{ path: /\/actions\/artifacts/, fault: { kind: 'drop' } }])
    expect(await resultsExist(octokit, owner, repo, resultsName('bbbbbbbb'), LIMITS)).toBe(true)
    expect(await resultsExist(octokit, owner, repo, resultsName('aaaaaaaa'), LIMITS)).toBe(false)
  })
})

describe('downloadManifest', () => {
  async function candidate(batchId: string) {
    return (await findPendingArtifacts(client().octokit, owner, repo, { limits: LIMITS })).find((c) => c.batchId === batchId)!
  }

  it('gets the manifest through a 500, a download cut short and a hang', async () => {
    const c = await candidate('msgbatch_a')
    expect(c.artifact!.digest).toMatch(/^sha256:/)
    const { octokit, fetch: _, ...rest } = { ...client([{ path: /\/zip$/, fault: { kind: 'status', status: 500 } }]), fetch: undefined }
    const blob = faultyFetch([
      { path: /^\/blob-download\//, fault: { kind: 'cut' } },
      { path: /^\/blob-download\//, fault: { kind: 'hang' }, skip: 1 }
    ])
    const manifest = await downloadManifest(c, find(), { octokit, fetch: blob.fetch, limits: LIMITS })
    expect(manifest).toEqual({ version: 1, batches: [{ id: 'msgbatch_a' }] })
    expect(rest.faults.faulted).toHaveLength(1)
    expect(blob.faulted).toHaveLength(2)
  })

  it('says "unavailable, left for the next run" when the download keeps failing, never that the manifest is bad', async () => {
    const c = await candidate('msgbatch_a')
    const blob = faultyFetch([{ path: /^\/blob-download\//, fault: { kind: 'status', status: 503 }, times: 1000 }])
    const started = Date.now()
    const failure = downloadManifest(c, find(), { octokit: client().octokit, fetch: blob.fetch, limits: { ...LIMITS, deadlineMs: 300 } })
    const error = await failure.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArtifactUnavailableError)
    expect(error).toMatchObject({ transient: true })
    expect((error as Error).message).toMatch(/Could not download claude-batch-manifest-aaaaaaaa-msgbatch_a: .*503.*Left for the next run/)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('tells a manifest that arrived whole but is not JSON apart from a failed download', async () => {
    const c = await candidate('msgbatch_bad')
    await expect(downloadManifest(c, find(), { octokit: client().octokit, limits: LIMITS })).rejects.toBeInstanceOf(ManifestContentError)
  })

  it('reports an artifact that is gone as unavailable for good', async () => {
    const c = await candidate('msgbatch_a')
    github.expireArtifact(c.artifact!.id)
    await expect(downloadManifest(c, find(), { octokit: client().octokit, limits: LIMITS })).rejects.toMatchObject({ name: 'ArtifactUnavailableError', transient: false })
  })
})

describe('uploadArtifact', () => {
  /** A client whose service does the work but whose answers fail as `failures` says. */
  function stub(failures: Array<Error | 'lost'>): ArtifactUploader & { uploads: number; stored: number[] } {
    const s = {
      uploads: 0,
      stored: [] as number[],
      async uploadArtifact() {
        s.uploads++
        const failure = failures.shift()
        if (failure === 'lost') {
          s.stored.push(42)
          throw new Error('Failed to make request after 5 attempts: socket hang up')
        }
        if (failure) throw failure
        s.stored.push(7)
        return { id: 7 }
      },
      async getArtifact() {
        if (!s.stored.length) throw Object.assign(new Error('Artifact not found'), { name: 'ArtifactNotFoundError' })
        return { artifact: { id: s.stored[0]! } }
      }
    }
    return s
  }

  it('retries a failed upload', async () => {
    const client = stub([new Error('Failed to make request after 5 attempts: (503) Service Unavailable'), Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' })])
    expect(await uploadArtifact('n', [], '/', 1, { client, limits: LIMITS })).toBe(7)
    expect(client.uploads).toBe(3)
  })

  it('does not upload again when the first upload was done and only its answer was lost', async () => {
    const client = stub(['lost'])
    expect(await uploadArtifact('n', [], '/', 1, { client, limits: LIMITS })).toBe(42)
    expect(client.uploads).toBe(1)
    expect(client.stored).toEqual([42])
  })

  it('does not retry what no retry can mend', async () => {
    const client = stub([Object.assign(new Error('No files'), { name: 'FilesNotFoundError' })])
    await expect(uploadArtifact('n', [], '/', 1, { client, limits: LIMITS })).rejects.toThrow('No files')
    expect(client.uploads).toBe(1)
  })

  it('fails within its deadline when the service keeps failing', async () => {
    const client = stub(Array.from({ length: 1000 }, () => new Error('Failed to make request after 5 attempts: (502) Bad Gateway')))
    await expect(uploadArtifact('n', [], '/', 1, { client, limits: { ...LIMITS, deadlineMs: 200 } })).rejects.toThrow(/502/)
  })
})
