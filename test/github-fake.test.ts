/**
 * The GitHub fake, driven by the real clients: `@actions/artifact` (Twirp + blob upload, `findBy` REST
 * download) and octokit from `@actions/github` (artifacts, Git Data, pulls). Other tests trust the fake to behave
 * like GitHub, so these pin the behaviour the action relies on.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { FAKE_TOKEN, GitHubFake, type FakeRun } from './support/github-fake.js'

type ArtifactModule = typeof import('@actions/artifact')
type GitHubModule = typeof import('@actions/github')
type Octokit = ReturnType<GitHubModule['getOctokit']>

const DAY = 86_400_000
const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService'

/**
 * One fake for the artifact tests: `@actions/github` fixes its base URL from GITHUB_API_URL when first imported,
 * and the artifact client's `findBy` calls use that URL, so the fake must exist before the clients are imported.
 */
let shared: GitHubFake
let artifact: ArtifactModule
let github: GitHubModule
let savedApiUrl: string | undefined

beforeAll(async () => {
  shared = await GitHubFake.start()
  savedApiUrl = process.env.GITHUB_API_URL
  process.env.GITHUB_API_URL = shared.url
  artifact = await import('@actions/artifact')
  github = await import('@actions/github')
})

const tempDirs: string[] = []

afterAll(async () => {
  restoreEnv({ GITHUB_API_URL: savedApiUrl })
  await shared.close()
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

function restoreEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
}

/**
 * Runs `fn` as a step of `run`: the clients read the environment at call time. @actions/core logs straight to
 * stdout (not through console), so that is muted meanwhile to keep the test output readable.
 */
async function inRun<T>(fake: GitHubFake, run: FakeRun, fn: () => Promise<T>, extra: Record<string, string> = {}): Promise<T> {
  const env = { ...fake.envFor(run), ...extra }
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, env)
  const write = process.stdout.write
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
    restoreEnv(saved)
  }
}

async function failure(promise: Promise<unknown>): Promise<Error & { status?: number }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { status?: number }
  }
  throw new Error('expected the call to fail')
}

/** A folder with the given files (path → content). */
async function folder(files: Record<string, string>): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'github-fake-'))
  tempDirs.push(dir)
  const paths: string[] = []
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, content)
    paths.push(file)
  }
  return { dir, paths }
}

const MANIFEST = { 'manifest.json': '{"batch":"msgbatch_01","rows":3}\n', 'results/rows.jsonl': '{"id":1}\n{"id":2}\n' }

async function upload(fake: GitHubFake, run: FakeRun, name: string, files: Record<string, string> = MANIFEST, retentionDays?: number) {
  const { dir, paths } = await folder(files)
  const options = retentionDays === undefined ? {} : { retentionDays }
  return inRun(fake, run, () => new artifact.DefaultArtifactClient().uploadArtifact(name, paths, dir, options))
}

function octokitFor(fake: GitHubFake, token = FAKE_TOKEN): Octokit {
  return github.getOctokit(token, { baseUrl: fake.url })
}

function ownerRepo(fake: GitHubFake): { owner: string; repo: string } {
  const [owner = '', repo = ''] = fake.repository.split('/')
  return { owner, repo }
}

function findBy(fake: GitHubFake, run: FakeRun) {
  const { owner, repo } = ownerRepo(fake)
  return { token: FAKE_TOKEN, workflowRunId: run.id, repositoryOwner: owner, repositoryName: repo }
}

describe('artifact upload (Twirp + blob storage)', () => {
  it('uploads, keeps the retention, and shows the artifact in the REST API with its run', async () => {
    const run = shared.addRun()
    const before = Date.now()
    const firstCall = shared.calls.length
    const uploaded = await upload(shared, run, 'manifest-upload', MANIFEST, 5)
    expect(uploaded.id).toEqual(expect.any(Number))
    expect(uploaded.size).toBeGreaterThan(0)

    const view = shared.artifacts().find((a) => a.id === uploaded.id)!
    expect(view).toMatchObject({ name: 'manifest-upload', runId: run.id, size: uploaded.size, finalized: true })
    expect(view.digest).toBe(`sha256:${uploaded.digest}`)
    expect(await view.files()).toEqual(Object.fromEntries(Object.entries(MANIFEST).map(([k, v]) => [k, Buffer.from(v)])))

    const { data } = await octokitFor(shared).rest.actions.listArtifactsForRepo({ ...ownerRepo(shared), name: 'manifest-upload' })
    expect(data.total_count).toBe(1)
    const [listed] = data.artifacts
    expect(listed).toMatchObject({
      id: uploaded.id,
      name: 'manifest-upload',
      size_in_bytes: uploaded.size,
      expired: false,
      digest: `sha256:${uploaded.digest}`,
      archive_download_url: `${shared.url}/repos/${shared.repository}/actions/artifacts/${uploaded.id}/zip`,
      workflow_run: { id: run.id, head_branch: 'main', head_sha: run.headSha }
    })
    expect(listed!.workflow_run!.head_repository_id).toBe(listed!.workflow_run!.repository_id)
    const retention = Date.parse(listed!.expires_at!) - before
    expect(retention).toBeGreaterThan(5 * DAY - 60_000)
    expect(retention).toBeLessThan(5 * DAY + 60_000)

    // The client's exact traffic: create, staged block(s), block list, finalize.
    const paths = shared.calls
      .slice(firstCall)
      .filter((c) => c.path.startsWith(TWIRP) || c.path.startsWith('/blob/'))
      .map((c) => c.path)
    expect(paths[0]).toBe(`${TWIRP}/CreateArtifact`)
    expect(paths.some((p) => /[?&]comp=block&blockid=/.test(p))).toBe(true)
    expect(paths.some((p) => /[?&]comp=blocklist/.test(p))).toBe(true)
    expect(paths.at(-1)).toBe(`${TWIRP}/FinalizeArtifact`)
  })

  it('refuses a second artifact of the same name in one run (409), but not in another run', async () => {
    const first = shared.addRun()
    await upload(shared, first, 'manifest-dup')
    const error = await failure(upload(shared, first, 'manifest-dup'))
    expect(error.message).toBe(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run'
    )
    const other = await upload(shared, shared.addRun(), 'manifest-dup')
    expect(other.id).toEqual(expect.any(Number))
    expect(shared.artifacts().filter((a) => a.name === 'manifest-dup' && a.finalized)).toHaveLength(2)
  })

  it('lists, gets, downloads and deletes within the run through Twirp (no findBy)', async () => {
    const run = shared.addRun()
    const { id } = await upload(shared, run, 'manifest-internal')
    const client = new artifact.DefaultArtifactClient()
    const { dir } = await folder({})
    const got = await inRun(shared, run, async () => ({
      list: await client.listArtifacts(),
      get: await client.getArtifact('manifest-internal'),
      download: await client.downloadArtifact(id!, { path: dir })
    }))
    expect(got.list.artifacts.map((a) => a.name)).toEqual(['manifest-internal'])
    expect(got.get.artifact).toMatchObject({ id, name: 'manifest-internal' })
    expect(await readFile(path.join(dir, 'results/rows.jsonl'), 'utf8')).toBe(MANIFEST['results/rows.jsonl'])

    await inRun(shared, run, () => client.deleteArtifact('manifest-internal'))
    expect(shared.artifacts().find((a) => a.id === id)?.deleted).toBe(true)
    const gone = await failure(octokitFor(shared).rest.actions.getArtifact({ ...ownerRepo(shared), artifact_id: id! }))
    expect(gone.status).toBe(404)
  })

  it('verifies size and sha256 at finalize, and accepts a one-shot blob PUT', async () => {
    const run = shared.addRun()
    const token = shared.envFor(run).ACTIONS_RUNTIME_TOKEN!
    const ids = { workflow_run_backend_id: run.backendId, workflow_job_run_backend_id: run.jobBackendId }
    const twirp = (method: string, body: object) =>
      fetch(`${shared.url}${TWIRP}/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...ids, ...body })
      })
    const created = (await (await twirp('CreateArtifact', { name: 'one-shot', version: 7 })).json()) as { signed_upload_url: string }
    const bytes = Buffer.from('not really a zip')
    const put = await fetch(created.signed_upload_url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: bytes })
    expect(put.status).toBe(201)

    const badSize = await twirp('FinalizeArtifact', { name: 'one-shot', size: '3' })
    expect(badSize.status).toBe(400)
    expect(await badSize.json()).toMatchObject({ code: 'invalid_argument', msg: expect.stringMatching(/size mismatch/) })
    const badHash = await twirp('FinalizeArtifact', { name: 'one-shot', size: String(bytes.length), hash: 'sha256:00' })
    expect(badHash.status).toBe(400)
    const ok = await twirp('FinalizeArtifact', { name: 'one-shot', size: String(bytes.length) })
    expect(await ok.json()).toEqual({ ok: true, artifact_id: expect.stringMatching(/^\d+$/) })

    const noSig = await fetch(created.signed_upload_url.replace(/\?.*/, ''), { method: 'PUT', body: bytes })
    expect(noSig.status).toBe(403)
    expect(noSig.headers.get('x-ms-error-code')).toBe('AuthenticationFailed')
    const badRoute = await twirp('NoSuchMethod', {})
    expect([badRoute.status, await badRoute.json()]).toEqual([404, { code: 'bad_route', msg: expect.any(String) }])
  })

  it('refuses a runtime token of an unknown run with a non-retryable 401', async () => {
    const stranger: FakeRun = { ...shared.addRun(), backendId: 'not-registered' }
    const error = await failure(upload(shared, stranger, 'manifest-stranger'))
    expect(error.message).toMatch(/Failed to CreateArtifact: Received non-retryable error: Failed request: \(401\)/)
  })
})

describe('artifacts across runs (findBy, REST)', () => {
  it("gets, lists and downloads another run's artifact with the exact files", async () => {
    const producer = shared.addRun()
    const { id } = await upload(shared, producer, 'manifest-cross')
    const collector = shared.addRun({ event: 'schedule' })
    const client = new artifact.DefaultArtifactClient()
    const { dir } = await folder({})
    const found = await inRun(shared, collector, async () => ({
      get: await client.getArtifact('manifest-cross', { findBy: findBy(shared, producer) }),
      list: await client.listArtifacts({ findBy: findBy(shared, producer) }),
      download: await client.downloadArtifact(id!, { path: dir, findBy: findBy(shared, producer) })
    }))
    expect(found.get.artifact).toMatchObject({ id, name: 'manifest-cross' })
    expect(found.list.artifacts.map((a) => a.id)).toEqual([id])
    expect(found.download.downloadPath).toBe(dir)
    for (const [name, content] of Object.entries(MANIFEST)) {
      expect(await readFile(path.join(dir, name), 'utf8')).toBe(content)
    }
    expect(shared.calls.some((c) => c.method === 'GET' && c.status === 302 && c.path.endsWith(`/artifacts/${id}/zip`))).toBe(true)
  })

  it('pages the repository-wide listing with Link headers (octokit.paginate)', async () => {
    const run = shared.addRun()
    for (const n of [1, 2, 3]) await upload(shared, run, `manifest-page-${n}`)
    const octokit = octokitFor(shared)
    const all = await octokit.paginate(octokit.rest.actions.listArtifactsForRepo, { ...ownerRepo(shared), per_page: 2 })
    const live = shared.artifacts().filter((a) => a.finalized && !a.deleted)
    expect(all.map((a) => a.id)).toEqual(live.map((a) => a.id).reverse()) // newest first
    expect(shared.calls.some((c) => /\/actions\/artifacts\?per_page=2&page=2$/.test(c.path))).toBe(true)

    const first = await octokit.rest.actions.listArtifactsForRepo({ ...ownerRepo(shared), per_page: 2 })
    expect(first.data.total_count).toBe(live.length)
    expect(first.headers.link).toMatch(/rel="next".*rel="last"/)
    const byName = await octokit.rest.actions.listWorkflowRunArtifacts({ ...ownerRepo(shared), run_id: run.id, name: 'manifest-page-2' })
    expect(byName.data.artifacts.map((a) => a.name)).toEqual(['manifest-page-2'])
  })

  it("shows a fork run's head repository and answers 410 for an expired artifact", async () => {
    const forkRun = shared.addRun({ event: 'pull_request', headRepository: 'forker/prompts-repo', headBranch: 'patch-1' })
    const { id } = await upload(shared, forkRun, 'manifest-fork')
    const octokit = octokitFor(shared)
    const { data } = await octokit.rest.actions.getArtifact({ ...ownerRepo(shared), artifact_id: id! })
    expect(data.workflow_run?.head_repository_id).not.toBe(data.workflow_run?.repository_id)
    const { data: run } = await octokit.rest.actions.getWorkflowRun({ ...ownerRepo(shared), run_id: forkRun.id })
    expect(run).toMatchObject({ event: 'pull_request', head_branch: 'patch-1', head_repository: { full_name: 'forker/prompts-repo' } })

    shared.expireArtifact(id!)
    const listed = await octokit.rest.actions.getArtifact({ ...ownerRepo(shared), artifact_id: id! })
    expect(listed.data.expired).toBe(true)
    const error = await failure(octokit.rest.actions.downloadArtifact({ ...ownerRepo(shared), artifact_id: id!, archive_format: 'zip', request: { redirect: 'manual' } }))
    expect(error.status).toBe(410)
    expect(error.message).toMatch(/Artifact has expired/)
  })

  it('works for a child process given only envFor(run)', async () => {
    const run = shared.addRun()
    const { dir } = await folder(MANIFEST)
    const script = `
      import { DefaultArtifactClient } from '@actions/artifact'
      const { id } = await new DefaultArtifactClient().uploadArtifact('manifest-child', ['${path.join(dir, 'manifest.json')}'], '${dir}')
      console.error('ID=' + id)`
    const env = { PATH: process.env.PATH ?? '', ...shared.envFor(run) }
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env }, (error, _out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(err)
      )
    })
    const id = Number(/ID=(\d+)/.exec(stderr)?.[1])
    expect(shared.artifacts().find((a) => a.id === id)).toMatchObject({ name: 'manifest-child', runId: run.id })
  })
})

describe('environment', () => {
  it('gives the artifact client an environment it accepts as github.com, not GHES', async () => {
    const run = shared.addRun()
    const env = shared.envFor(run)
    expect(env).toMatchObject({
      ACTIONS_RESULTS_URL: `${shared.url}/`,
      GITHUB_API_URL: shared.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: shared.repository,
      GITHUB_RUN_ID: String(run.id),
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main'
    })
    const client = new artifact.DefaultArtifactClient()
    await expect(inRun(shared, run, () => client.listArtifacts())).resolves.toEqual({ artifacts: [] })
    // Why GITHUB_SERVER_URL must not point at the fake: the client treats any other host as GHES.
    const ghes = await failure(inRun(shared, run, () => client.listArtifacts(), { GITHUB_SERVER_URL: shared.url }))
    expect(ghes.name).toBe('GHESNotSupportedError')
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Git Data and pulls: a fresh repository per test

let fake: GitHubFake | undefined

afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function fresh(): Promise<{ fake: GitHubFake; octokit: Octokit; owner: string; repo: string }> {
  fake = await GitHubFake.start()
  return { fake, octokit: octokitFor(fake), ...ownerRepo(fake) }
}

/** Commits `files` on top of `parent` through the Git Data API, as the collect command does. */
async function commitFiles(octokit: Octokit, owner: string, repo: string, parent: string, files: Record<string, string>, message: string) {
  const { data: parentCommit } = await octokit.rest.git.getCommit({ owner, repo, commit_sha: parent })
  const { data: tree } = await octokit.rest.git.createTree({
    owner,
    repo,
    base_tree: parentCommit.tree.sha,
    tree: Object.entries(files).map(([p, content]) => ({ path: p, mode: '100644' as const, type: 'blob' as const, content }))
  })
  const { data: commit } = await octokit.rest.git.createCommit({ owner, repo, message, tree: tree.sha, parents: [parent] })
  return commit
}

describe('Git Data API', () => {
  it('commits a tree on a new branch and moves it forward, refusing a non-fast-forward without force', async () => {
    const { fake, octokit, owner, repo } = await fresh()
    const { data: base } = await octokit.rest.git.getRef({ owner, repo, ref: 'heads/main' })
    expect(base).toMatchObject({ ref: 'refs/heads/main', object: { sha: fake.branch('main')!.sha, type: 'commit' } })

    const first = await commitFiles(
      octokit,
      owner,
      repo,
      base.object.sha,
      {
        'results/summary.md': '# Summary\n',
        'results/2026/rows.csv': 'id,text\n1,hi\n'
      },
      'Add batch results'
    )
    expect(first.verification).toMatchObject({ verified: true, reason: 'valid' })
    await octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/claude-batch/results', sha: first.sha })
    expect(fake.fileAt('claude-batch/results', 'results/2026/rows.csv')).toBe('id,text\n1,hi\n')
    expect(fake.fileAt('claude-batch/results', 'README.md')).toBe('# prompts-repo\n')
    expect(fake.fileAt('main', 'results/summary.md')).toBeUndefined()
    expect(fake.commit(first.sha)).toEqual({ sha: first.sha, message: 'Add batch results', parents: [base.object.sha], tree: first.tree.sha })

    const { data: tree } = await octokit.rest.git.getTree({ owner, repo, tree_sha: first.tree.sha, recursive: 'true' })
    expect(tree.tree.map((e) => `${e.type} ${e.path}`)).toEqual(['blob README.md', 'tree results', 'tree results/2026', 'blob results/2026/rows.csv', 'blob results/summary.md'])

    const again = await failure(octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/claude-batch/results', sha: first.sha }))
    expect([again.status, again.message]).toEqual([422, expect.stringMatching(/Reference already exists/)])

    const second = await commitFiles(octokit, owner, repo, first.sha, { 'results/summary.md': '# Summary v2\n' }, 'Update')
    await octokit.rest.git.updateRef({ owner, repo, ref: 'heads/claude-batch/results', sha: second.sha })
    expect(fake.branch('claude-batch/results')?.sha).toBe(second.sha)
    expect(fake.fileAt('claude-batch/results', 'results/summary.md')).toBe('# Summary v2\n')

    // Rewinding to a commit that does not contain the branch head is not a fast forward.
    const sideways = await commitFiles(octokit, owner, repo, base.object.sha, { 'other.txt': 'x' }, 'Elsewhere')
    const refused = await failure(octokit.rest.git.updateRef({ owner, repo, ref: 'heads/claude-batch/results', sha: sideways.sha }))
    expect([refused.status, refused.message]).toEqual([422, expect.stringMatching(/Update is not a fast forward/)])
    await octokit.rest.git.updateRef({ owner, repo, ref: 'heads/claude-batch/results', sha: sideways.sha, force: true })
    expect(fake.branch('claude-batch/results')?.sha).toBe(sideways.sha)

    const missing = await failure(octokit.rest.git.getRef({ owner, repo, ref: 'heads/nope' }))
    expect(missing.status).toBe(404)
    await octokit.rest.git.deleteRef({ owner, repo, ref: 'heads/claude-batch/results' })
    expect(fake.branch('claude-batch/results')).toBeUndefined()
  })

  it('hashes blobs as git does, deletes paths with sha null, and reads blobs back', async () => {
    const { octokit, owner, repo, fake } = await fresh()
    const { data: blob } = await octokit.rest.git.createBlob({ owner, repo, content: 'hello\n', encoding: 'utf-8' })
    expect(blob.sha).toBe('ce013625030ba8dba906f756967f9e9ca394464a') // git hash-object of "hello\n"
    const { data: read } = await octokit.rest.git.getBlob({ owner, repo, file_sha: blob.sha })
    expect(Buffer.from(read.content, 'base64').toString()).toBe('hello\n')

    const main = fake.branch('main')!.sha
    const withFile = await commitFiles(octokit, owner, repo, main, { 'dir/a.txt': 'a' }, 'add')
    const { data: emptied } = await octokit.rest.git.createTree({
      owner,
      repo,
      base_tree: withFile.tree.sha,
      tree: [{ path: 'dir/a.txt', mode: '100644', type: 'blob', sha: null }]
    })
    expect(emptied.tree.map((e) => e.path)).toEqual(['README.md']) // the emptied directory is gone
    expect(emptied.sha).toBe(fake.commit(main)!.tree)
  })
})

describe('pull requests', () => {
  it('creates, refuses a duplicate, finds by owner:branch, updates and labels', async () => {
    const { fake, octokit, owner, repo } = await fresh()
    const main = fake.branch('main')!.sha
    const commit = await commitFiles(octokit, owner, repo, main, { 'out.md': 'x' }, 'Results')
    await octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/claude-batch/results', sha: commit.sha })

    const pr = { owner, repo, head: 'claude-batch/results', base: 'main', title: 'Batch results', body: 'First', draft: true }
    const { status, data: created } = await octokit.rest.pulls.create(pr)
    expect(status).toBe(201)
    expect(created).toMatchObject({
      number: 1,
      state: 'open',
      draft: true,
      html_url: `https://github.com/${fake.repository}/pull/1`,
      head: { ref: 'claude-batch/results', sha: commit.sha },
      base: { ref: 'main' }
    })

    const duplicate = await failure(octokit.rest.pulls.create(pr))
    expect(duplicate.status).toBe(422)
    expect(duplicate.message).toContain(`A pull request already exists for ${owner}:claude-batch/results.`)

    const { data: found } = await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:claude-batch/results`, base: 'main' })
    expect(found.map((p) => p.number)).toEqual([1])
    const { data: none } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:other-branch` })
    expect(none).toEqual([])

    await octokit.rest.pulls.update({ owner, repo, pull_number: 1, body: 'Second' })
    const { data: labels } = await octokit.rest.issues.addLabels({ owner, repo, issue_number: 1, labels: ['claude-batch', 'automated'] })
    expect(labels.map((l) => l.name)).toEqual(['claude-batch', 'automated'])
    expect(fake.pulls()).toEqual([expect.objectContaining({ number: 1, body: 'Second', head: 'claude-batch/results', base: 'main', labels: ['claude-batch', 'automated'] })])
    const { data: closed } = await octokit.rest.pulls.update({ owner, repo, pull_number: 1, state: 'closed' })
    expect(closed.state).toBe('closed')
  })

  it('refuses a pull request without commits beyond its base', async () => {
    const { fake, octokit, owner, repo } = await fresh()
    await octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/empty', sha: fake.branch('main')!.sha })
    const error = await failure(octokit.rest.pulls.create({ owner, repo, head: 'empty', base: 'main', title: 't' }))
    expect([error.status, error.message]).toEqual([422, expect.stringContaining('No commits between main and empty')])
  })

  it('ignores a head filter without owner, as GitHub does', async () => {
    const { fake, octokit, owner, repo } = await fresh()
    for (const branch of ['one', 'two']) {
      await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: fake.branch('main')!.sha })
      fake.pushFile(branch, 'x.txt', branch)
    }
    for (const head of ['one', 'two']) await octokit.rest.pulls.create({ owner, repo, head, base: 'main', title: head })
    const { data } = await octokit.rest.pulls.list({ owner, repo, head: 'one' })
    expect(data.map((p) => p.head.ref)).toEqual(['two', 'one'])
  })

  it('answers 401 to a bad or missing token and 404 to unknown routes', async () => {
    const { fake, owner, repo } = await fresh()
    const bad = await failure(octokitFor(fake, 'ghs_wrong').rest.repos.get({ owner, repo }))
    expect([bad.status, bad.message]).toEqual([401, expect.stringMatching(/Bad credentials/)])
    const anonymous = await fetch(`${fake.url}/repos/${fake.repository}`)
    expect(anonymous.status).toBe(401)
    const { data } = await octokitFor(fake).rest.repos.get({ owner, repo })
    expect(data).toMatchObject({ name: repo, full_name: fake.repository, owner: { login: owner }, default_branch: 'main', private: false })
    const unknown = await fetch(`${fake.url}/repos/${fake.repository}/nope`, { headers: { authorization: `token ${FAKE_TOKEN}` } })
    expect([unknown.status, await unknown.json()]).toEqual([404, expect.objectContaining({ message: 'Not Found' })])
    expect(unknown.headers.get('x-github-request-id')).toMatch(/^[0-9A-F:]+$/)
  })
})
