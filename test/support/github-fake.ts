/**
 * One local fake of GitHub for tests: the Actions artifact service (Twirp + blob storage) that
 * `@actions/artifact` uploads through, and the REST API (artifacts, runs, Git Data, pull requests) that octokit
 * and the artifact client's `findBy` mode use, over one shared store. So an artifact uploaded in one "run" can be
 * found, listed and downloaded from another, and a pull request can be opened from commits made through the API.
 * The real clients run against it unchanged, in-process or in a child process (see `envFor`).
 *
 * Where GitHub's behaviour is not documented the choice made is marked "Assumption".
 *
 *   const fake = await GitHubFake.start()
 *   const run = fake.addRun()                        // a workflow run (event 'push' on main)
 *   spawn(node, [dist], { env: { ...env, ...fake.envFor(run) } })   // uploads go to the fake
 *   getOctokit(FAKE_TOKEN, { baseUrl: fake.url })    // REST, same store
 *   fake.artifacts(), fake.pulls(), fake.fileAt('branch', 'path')   // inspection
 *
 * In-process caveat: `@actions/github` reads `GITHUB_API_URL` once, when first imported, and the artifact
 * client's `findBy` calls use that base URL. Set `GITHUB_API_URL` to the fake's url before importing
 * `@actions/artifact`/`@actions/github` (dynamic import), or start the fake on a fixed `port`.
 *
 * Faults (vocabulary shared with the Batch API simulator, test/support/faults.ts): `fake.injectFault({ method?,
 * path, after?, times?, kind, ... })` hits the matching call number `after + 1` of any face: Twirp
 * (`/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact`, FinalizeArtifact, ListArtifacts,
 * GetSignedArtifactURL), blob storage (/^\/blob\// uploads, /^\/blob-download\// downloads) and REST
 * (/\/git\/refs/, /\/git\/trees/, /\/git\/commits/, /\/pulls/, /\/labels$/, /\/actions\/artifacts/ …).
 * - `status`: nothing is done; the error in the face's envelope: REST `{message, documentation_url}`, Twirp
 *   `{code, msg}` (`errorType` = Twirp code), blob XML (`errorType` = x-ms-error-code). The artifact client
 *   retries 429/5xx after 3 s: prefer a non-retryable status (or `times: 1`) to keep tests fast.
 * - `hang`: read, never answered; `fake.close()` ends it (the artifact client has no timeout of its own).
 * - `lose-answer`: the work is done (artifact created/finalized, commit written, ref moved), then the
 *   connection drops, or `status` is answered instead.
 * - `garble`: nothing is done; 200 with an HTML page (octokit hands back a string; the Twirp client fails to
 *   parse it and retries after 3 s) or the `body`/`contentType` given.
 * - `delay`: the work is done at once and the answer sent `ms` later.
 * - `cut-stream`: the body stops after `afterLines` lines or `afterBytes` bytes (default half): a download cut
 *   midway.
 * `fake.calls` records every call (method, path with query, status answered; 0 when none was).
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FaultLifetime, FaultQueue, garbledBody, type Fault } from './faults.js'
import { FakeArtifacts, type FakeArtifactView } from './github-fake-artifacts.js'
import { GitStore, gitRoutes, nodeId, type GitPerson } from './github-fake-git.js'
import {
  blobError,
  decodeParam,
  errorReply,
  FakeError,
  headerValue,
  json,
  notFound,
  requestId,
  timestamp,
  twirpError,
  type FakeContext,
  type FakeRun,
  type Protocol,
  type Reply,
  type Route
} from './github-fake-http.js'
import { FakePulls, type PullView } from './github-fake-pulls.js'
import { drain } from './http-body.js'

/** A fault for the fake: the shared vocabulary of test/support/faults.ts (see the top of this file). */
export type FakeFault = Fault

export type { FakeArtifactView } from './github-fake-artifacts.js'
export type { FakeRun } from './github-fake-http.js'
export type { PullView } from './github-fake-pulls.js'
export { readZip } from './github-fake-artifacts.js'

export const FAKE_TOKEN = 'ghs_fake-github-token'

/** The fake repository's numeric id; forks get ids counting up from the next one. */
const REPO_ID = 700_000_001
const WORKFLOW_NAME = 'Claude batch'
/** Who "someone else" is when the initial commit and `pushFile` write to the repository. */
const OTHER_PUSHER: Omit<GitPerson, 'date'> = { name: 'Octo Cat', email: 'octocat@users.noreply.github.com' }

export interface GitHubFakeOptions {
  /** Default 'octo-org'. */
  owner?: string
  /** Default 'prompts-repo'. */
  repo?: string
  /** Default 'main'. */
  defaultBranch?: string
  /** The only REST token accepted (default `FAKE_TOKEN`); the artifact service takes runtime tokens instead. */
  token?: string
  /** 0 (default) = a random free port on 127.0.0.1. */
  port?: number
  /** Clock in ms (default `Date.now`): artifact expiry and timestamps follow it. */
  now?: () => number
}

/** One HTTP call as received; `status` stays 0 if no answer was sent. `path` includes the query string. */
export interface FakeCall {
  method: string
  path: string
  status: number
  /** The token the call presented (`Authorization: token|Bearer X`), if any: which credential reached GitHub. */
  token?: string
}

export class GitHubFake {
  readonly url: string
  readonly repository: string
  readonly calls: FakeCall[] = []

  private readonly server: Server
  private readonly token: string
  private readonly owner: string
  private readonly defaultBranch: string
  private readonly now: () => number
  private readonly git = new GitStore()
  private readonly store: FakeArtifacts
  private readonly pullStore: FakePulls
  private readonly runs: Array<{ run: FakeRun; createdMs: number }> = []
  private readonly forkIds = new Map<string, number>()
  private nextRunId = 1000
  private readonly routes: Route[]
  private readonly faults = new FaultQueue()
  /** Ended on close, so delayed and hung answers keep no timer or connection alive. */
  private readonly lifetime = new FaultLifetime()

  static async start(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as AddressInfo
    return new GitHubFake(server, `http://127.0.0.1:${port}`, options)
  }

  private constructor(server: Server, url: string, options: GitHubFakeOptions) {
    this.server = server
    this.url = url
    this.owner = options.owner ?? 'octo-org'
    this.repository = `${this.owner}/${options.repo ?? 'prompts-repo'}`
    this.defaultBranch = options.defaultBranch ?? 'main'
    this.token = options.token ?? FAKE_TOKEN
    this.now = options.now ?? Date.now
    const ctx = this.context(options.repo ?? 'prompts-repo')
    this.store = new FakeArtifacts(ctx)
    this.pullStore = new FakePulls(ctx, this.git)
    this.routes = [
      { method: 'GET', pattern: /^$/, protocol: 'rest', repo: true, handler: () => json(this.renderRepo()) },
      {
        method: 'GET',
        pattern: /^\/actions\/runs\/(\d+)$/,
        protocol: 'rest',
        repo: true,
        handler: (call) => json(this.renderRun(Number(call.params[0])))
      },
      ...this.store.routes(),
      ...gitRoutes(ctx, this.git),
      ...this.pullStore.routes()
    ]
    this.initialCommit(options.repo ?? 'prompts-repo')
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        console.error('GitHub fake: failed to answer', error)
        res.destroy()
      })
    })
  }

  async close(): Promise<void> {
    this.lifetime.close()
    const closed = new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())))
    this.server.closeAllConnections()
    await closed
  }

  // -------------------------------------------------------------------------------------------------------------
  // Runs and their environment

  /**
   * Registers a workflow run; its backend ids go into the runtime token. `headRepository` defaults to this
   * repository; another one models a run for a pull request from a fork.
   */
  addRun(run: Partial<FakeRun> = {}): FakeRun {
    const id = run.id ?? this.nextRunId
    if (this.runs.some((r) => r.run.id === id)) throw new Error(`Run ${id} already exists`)
    this.nextRunId = Math.max(this.nextRunId, id + 1)
    const headBranch = run.headBranch ?? this.defaultBranch
    const full: FakeRun = {
      id,
      backendId: run.backendId ?? randomUUID(),
      jobBackendId: run.jobBackendId ?? randomUUID(),
      event: run.event ?? 'push',
      headBranch,
      headSha: run.headSha ?? this.git.ref(`refs/heads/${headBranch}`) ?? this.branch(this.defaultBranch)!.sha,
      headRepository: run.headRepository ?? this.repository
    }
    this.runs.push({ run: full, createdMs: this.now() })
    return full
  }

  /**
   * The environment of a JS action step in `run`. `GITHUB_SERVER_URL` is github.com: the artifact client throws
   * GHESNotSupportedError for any other host (except *.ghe.com / *.localhost), and nothing here needs it.
   */
  envFor(run: FakeRun): Record<string, string> {
    const pullRequest = run.event === 'pull_request' || run.event === 'pull_request_target'
    const prNumber = this.pullStore.views().find((pull) => pull.head === run.headBranch)?.number ?? 1
    const ref = pullRequest ? `refs/pull/${prNumber}/merge` : `refs/heads/${run.headBranch}`
    return {
      GITHUB_ACTIONS: 'true',
      ACTIONS_RUNTIME_TOKEN: runtimeToken(run),
      ACTIONS_RESULTS_URL: `${this.url}/`,
      GITHUB_API_URL: this.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: this.repository,
      GITHUB_REPOSITORY_OWNER: this.owner,
      GITHUB_RUN_ID: String(run.id),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_SHA: run.headSha,
      GITHUB_REF: ref,
      GITHUB_REF_NAME: pullRequest ? `${prNumber}/merge` : run.headBranch,
      GITHUB_EVENT_NAME: run.event,
      GITHUB_WORKFLOW: WORKFLOW_NAME,
      ...(pullRequest ? { GITHUB_HEAD_REF: run.headBranch, GITHUB_BASE_REF: this.defaultBranch } : {})
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Faults

  /** Queues a fault for the next matching call(s), REST, Twirp or blob; matched in the order injected. */
  injectFault(fault: FakeFault): void {
    this.faults.add(fault)
  }

  /** Forgets every fault not yet used up. */
  clearFaults(): void {
    this.faults.clear()
  }

  // -------------------------------------------------------------------------------------------------------------
  // Inspection and outside changes, for tests

  /** Every artifact ever created, oldest first, including unfinalized, expired and deleted ones. */
  artifacts(): FakeArtifactView[] {
    return this.store.views()
  }

  /** Adds a finalized, empty artifact of `run` created at `createdMs` (default now), as another workflow's upload would. */
  addArtifact(name: string, run: FakeRun, createdMs = this.now()): number {
    return this.store.seed(name, run, createdMs)
  }

  /** Makes an artifact expired now (listed with `expired: true`, download → 410), whatever its expires_at. */
  expireArtifact(id: number): void {
    this.store.expire(id)
  }

  branch(name: string): { sha: string } | undefined {
    const sha = this.git.ref(`refs/heads/${name}`)
    return sha === undefined ? undefined : { sha }
  }

  /** Content of a file on a branch (or at a commit sha), following the commit's tree. */
  fileAt(ref: string, path: string): string | undefined {
    return this.git.fileAt(ref, path)?.toString('utf8')
  }

  commit(sha: string): { sha: string; message: string; parents: string[]; tree: string } | undefined {
    const commit = this.git.commit(sha)
    return commit && { sha: commit.sha, message: commit.message, parents: [...commit.parents], tree: commit.tree }
  }

  /** How many git objects of a type the repository holds: shows that a call whose answer was lost still wrote. */
  gitObjectCount(type: 'blob' | 'tree' | 'commit'): number {
    return this.git.count(type)
  }

  pulls(): PullView[] {
    return this.pullStore.views()
  }

  /** Moves a branch by one commit that writes `path`, as a push by someone else would. Returns the new sha. */
  pushFile(branch: string, path: string, content: string, message = `Update ${path}`): string {
    const parent = this.git.ref(`refs/heads/${branch}`)
    if (parent === undefined) throw new Error(`No branch ${branch}`)
    const blob = this.git.writeBlob(Buffer.from(content))
    const edit = { segments: path.split('/').filter((s) => s !== ''), entry: { mode: '100644', type: 'blob' as const, sha: blob } }
    const tree = this.git.editTree(this.git.commit(parent)!.tree, [edit])
    const sha = this.writeOwnCommit(tree, [parent], message)
    this.git.setRef(`refs/heads/${branch}`, sha)
    return sha
  }

  // -------------------------------------------------------------------------------------------------------------
  // Dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid')
    const token = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(headerValue(req.headers, 'authorization') ?? '')?.[1]
    const call: FakeCall = { method: req.method ?? 'GET', path: url.pathname + url.search, status: 0, ...(token ? { token } : {}) }
    this.calls.push(call)
    const protocol = protocolOf(url.pathname)
    const fault = this.faults.take(call.method, url)

    // Faults that stand in for the service being unable to work: nothing is done, the body is just drained.
    if (fault?.kind === 'status') {
      await drain(req)
      return this.send(req, res, call, protocol, faultReply(protocol, fault))
    }
    if (fault?.kind === 'hang') {
      await drain(req)
      await this.lifetime.closed() // close() then closes the connection; the client may have given up before
      return
    }
    if (fault?.kind === 'garble') {
      await drain(req)
      const { body, contentType } = garbledBody(fault)
      return this.send(req, res, call, protocol, { status: 200, headers: { 'content-type': contentType }, raw: body })
    }
    let reply = await this.process(req, url, protocol)
    if (fault?.kind === 'lose-answer') {
      // The work is done (the artifact, commit or ref exists) but the client never learns it.
      if (fault.status === undefined) {
        req.socket.destroy()
        return
      }
      reply = errorReply(protocol, new FakeError(fault.status, 'Simulated lost answer'))
    }
    // The work is done at once; only the answer waits, as when a slow network hides a fast service.
    if (fault?.kind === 'delay' && (await this.lifetime.wait(fault.ms))) return
    await this.send(req, res, call, protocol, reply, fault?.kind === 'cut-stream' ? fault : undefined)
  }

  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    call: FakeCall,
    protocol: Protocol,
    reply: Reply,
    cut?: { afterLines?: number; afterBytes?: number }
  ): Promise<void> {
    if (res.destroyed) return // the client gave up (e.g. its timeout fired during a delay)
    call.status = reply.status
    const headers: Record<string, string> = { 'x-github-request-id': requestId(), ...reply.headers }
    if (protocol === 'blob') {
      headers['x-ms-request-id'] = randomUUID()
      headers['x-ms-version'] = headerValue(req.headers, 'x-ms-version') ?? '2026-04-06'
    }
    let body: Buffer | undefined = reply.raw
    if (reply.json !== undefined) {
      body = Buffer.from(JSON.stringify(reply.json))
      headers['content-type'] = 'application/json; charset=utf-8'
    }
    if (reply.status !== 204 && reply.status !== 304) headers['content-length'] = String(body?.length ?? 0)
    res.writeHead(reply.status, headers)
    if (!cut || !body) {
      res.end(body)
      return
    }
    // The full length was announced, so the client can tell the body stopped short (if it checks).
    res.write(body.subarray(0, cutPoint(body, cut)))
    res.socket?.end()
  }

  /** Authenticates (REST), routes and runs a call; every failure becomes an error in the protocol's envelope. */
  private async process(req: IncomingMessage, url: URL, protocol: Protocol): Promise<Reply> {
    try {
      if (protocol === 'rest') this.authenticate(req)
      for (const route of this.routes) {
        if (route.method !== req.method || route.protocol !== protocol) continue
        const params = this.match(route, url.pathname)
        if (params) return await route.handler({ req, url, params })
      }
      if (protocol === 'twirp') throw twirpError('bad_route', `no handler for path "${url.pathname}"`)
      if (protocol === 'blob') throw blobError(400, 'UnsupportedHttpVerb', "The resource doesn't support the specified HTTP verb.")
      throw notFound()
    } catch (error) {
      if (error instanceof FakeError) return errorReply(protocol, error)
      console.error('GitHub fake: internal error', error)
      return errorReply(protocol, new FakeError(500, `Fake internal error: ${(error as Error).message}`))
    }
  }

  /** Capture groups of a route's pattern, or undefined; repository routes only answer for this repository. */
  private match(route: Route, pathname: string): string[] | undefined {
    let rest = pathname
    if (route.repo) {
      const repoPath = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(pathname)
      if (!repoPath) return undefined
      const fullName = `${decodeParam(repoPath[1])}/${decodeParam(repoPath[2])}`
      // GitHub matches owner and repository names case-insensitively.
      if (fullName.toLowerCase() !== this.repository.toLowerCase()) return undefined
      rest = repoPath[3] ?? ''
    }
    const match = route.pattern.exec(rest)
    return match ? match.slice(1).map(decodeParam) : undefined
  }

  /**
   * `Authorization: token X` (what octokit sends) or `Bearer X`. Assumption: every REST call needs the token,
   * reads of this public repository included (GitHub would answer anonymous reads; requiring the token catches
   * a forgotten one). A missing token gets GitHub's "Requires authentication", a wrong one "Bad credentials".
   */
  private authenticate(req: IncomingMessage): void {
    const header = headerValue(req.headers, 'authorization')
    if (header === undefined) throw new FakeError(401, 'Requires authentication')
    const token = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header)?.[1]
    if (token !== this.token) throw new FakeError(401, 'Bad credentials')
  }

  // -------------------------------------------------------------------------------------------------------------
  // Repository and runs

  private context(repoName: string): FakeContext {
    return {
      url: this.url,
      repo: { owner: this.owner, name: repoName, fullName: this.repository, id: REPO_ID, defaultBranch: this.defaultBranch },
      now: () => this.now(),
      repoId: (fullName) => this.repoId(fullName),
      repoSummary: (fullName) => this.repoSummary(fullName),
      run: (id) => this.runs.find((r) => r.run.id === id)?.run,
      runByBackendIds: (runId, jobId) => this.runs.find((r) => r.run.backendId === runId && r.run.jobBackendId === jobId)?.run
    }
  }

  private repoId(fullName: string): number {
    if (fullName.toLowerCase() === this.repository.toLowerCase()) return REPO_ID
    const key = fullName.toLowerCase()
    if (!this.forkIds.has(key)) this.forkIds.set(key, REPO_ID + 1 + this.forkIds.size)
    return this.forkIds.get(key)!
  }

  private repoSummary(fullName: string): Record<string, unknown> {
    const [owner = '', name = ''] = fullName.split('/')
    const id = this.repoId(fullName)
    return {
      id,
      node_id: nodeId('Repository', id),
      name,
      full_name: fullName,
      owner: { login: owner, id: id + 1_000_000, type: 'Organization' },
      private: false,
      html_url: `https://github.com/${fullName}`,
      fork: id !== REPO_ID,
      url: `${this.url}/repos/${fullName}`
    }
  }

  private renderRepo(): Record<string, unknown> {
    return {
      ...this.repoSummary(this.repository),
      default_branch: this.defaultBranch,
      visibility: 'public',
      permissions: { admin: false, maintain: false, push: true, triage: false, pull: true }
    }
  }

  private renderRun(id: number): Record<string, unknown> {
    const entry = this.runs.find((r) => r.run.id === id)
    if (!entry) throw notFound()
    const { run, createdMs } = entry
    return {
      id: run.id,
      name: WORKFLOW_NAME,
      node_id: nodeId('WorkflowRun', run.id),
      head_branch: run.headBranch,
      head_sha: run.headSha,
      path: '.github/workflows/claude-batch.yml',
      run_number: run.id,
      run_attempt: 1,
      event: run.event,
      status: 'completed',
      conclusion: 'success',
      workflow_id: 1,
      url: `${this.url}/repos/${this.repository}/actions/runs/${run.id}`,
      html_url: `https://github.com/${this.repository}/actions/runs/${run.id}`,
      created_at: timestamp(createdMs),
      updated_at: timestamp(createdMs),
      repository: this.repoSummary(this.repository),
      head_repository: this.repoSummary(run.headRepository)
    }
  }

  /** The repository starts with one commit on the default branch, holding README.md. */
  private initialCommit(repoName: string): void {
    const readme = this.git.writeBlob(Buffer.from(`# ${repoName}\n`))
    const tree = this.git.writeTree([{ name: 'README.md', mode: '100644', type: 'blob', sha: readme }])
    this.git.setRef(`refs/heads/${this.defaultBranch}`, this.writeOwnCommit(tree, [], 'Initial commit'))
  }

  private writeOwnCommit(tree: string, parents: string[], message: string): string {
    const person = { ...OTHER_PUSHER, date: timestamp(this.now()) }
    return this.git.writeCommit({ tree, parents, message, author: person, committer: person, verified: false }).sha
  }
}

/** Where a cut-stream fault stops a body: after `afterLines` lines, else `afterBytes`, else half way. */
function cutPoint(body: Buffer, cut: { afterLines?: number; afterBytes?: number }): number {
  if (cut.afterLines !== undefined) {
    let end = 0
    for (let line = 0; line < cut.afterLines && end < body.length; line++) {
      const newline = body.indexOf(0x0a, end)
      end = newline < 0 ? body.length : newline + 1
    }
    return end
  }
  return Math.min(body.length, cut.afterBytes ?? Math.floor(body.length / 2))
}

const FAULT_MESSAGES: Record<number, string> = {
  401: 'Bad credentials',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Validation Failed',
  429: 'API rate limit exceeded',
  500: 'Server Error',
  502: 'Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
}

/**
 * A status fault in the envelope of the call's protocol: REST `{message, documentation_url}`, Twirp
 * `{code, msg}` (`errorType` = the Twirp code), blob storage's XML error (`errorType` = `x-ms-error-code`).
 */
function faultReply(protocol: Protocol, fault: Fault & { kind: 'status' }): Reply {
  const message = fault.message ?? FAULT_MESSAGES[fault.status] ?? `Simulated ${fault.status}`
  const reply = errorReply(protocol, new FakeError(fault.status, message, fault.errorType ? { code: fault.errorType } : {}))
  return fault.headers ? { ...reply, headers: { ...reply.headers, ...fault.headers } } : reply
}

/** Twirp under /twirp/, blob storage under /blob and /blob-download, everything else REST. */
function protocolOf(pathname: string): Protocol {
  if (pathname.startsWith('/twirp/')) return 'twirp'
  if (pathname.startsWith('/blob/') || pathname.startsWith('/blob-download/')) return 'blob'
  return 'rest'
}

/**
 * An unsigned JWT like the runner's ACTIONS_RUNTIME_TOKEN: the client only decodes it (jwt-decode) and reads the
 * `Actions.Results:<run>:<job>` scope from `scp`.
 */
function runtimeToken(run: FakeRun): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const nowSeconds = Math.floor(Date.now() / 1000)
  const claims = {
    scp: `Actions.ExampleScope Actions.Results:${run.backendId}:${run.jobBackendId}`,
    iss: 'vstoken.actions.githubusercontent.com',
    nbf: nowSeconds - 60,
    exp: nowSeconds + 6 * 3600
  }
  return `${b64({ typ: 'JWT', alg: 'none' })}.${b64(claims)}.fake-signature`
}
