/**
 * The hostile tests' harness: the simulator and the GitHub fake, one step of a workflow run as a process of
 * dist/index.js, and a small proxy in front of the simulator that lets a test rewrite what the API answers
 * (results lines, a batch's results_url) or do something of its own before a call goes through.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { stat } from 'node:fs/promises'
import type { BatchSimulator } from '../support/simulator.js'
import { DEFAULT_API_KEY } from '../support/simulator.js'
import type { GitHubFake } from '../support/github-fake.js'
import { FAKE_TOKEN, type FakeRun } from '../support/github-fake.js'
import { runAction, type ActionRun } from '../support/run-action.js'

export interface Stands {
  simulator: BatchSimulator
  github: GitHubFake
  /** Where the action is pointed: the simulator, or a proxy in front of it. */
  apiUrl: string
}

/** One step of a workflow run: the bundled action as a process with that run's environment. */
export function step(s: Stands, run: FakeRun, workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}, timeoutMs?: number): Promise<ActionRun> {
  return runAction({
    timeoutMs,
    workspace,
    inputs: {
      'anthropic-api-key': DEFAULT_API_KEY,
      'anthropic-base-url': s.apiUrl,
      'github-token': FAKE_TOKEN,
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    env: { ...s.github.envFor(run), ...env }
  })
}

export const artifactNames = (github: GitHubFake) => github.artifacts().map((a) => a.name)

export const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false
  )

/** What a proxy hook sees of a call, and can change. */
export interface ProxyCall {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: Buffer
}

export interface ProxyHooks {
  /** Runs before the call is forwarded; returning a reply answers it without forwarding. */
  before?: (call: ProxyCall) => Promise<{ status: number; body: string } | undefined | void>
  /** Rewrites the answer's body (the whole of it, buffered) before it goes back. */
  rewrite?: (call: ProxyCall, status: number, body: Buffer) => Buffer | string
}

/** A buffering HTTP proxy to `target`: enough for JSON and JSONL answers of a test's size. */
export class Proxy {
  readonly calls: ProxyCall[] = []
  private constructor(
    private readonly server: Server,
    readonly url: string
  ) {}

  static async start(target: string, hooks: ProxyHooks): Promise<Proxy> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const proxy = new Proxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      proxy.handle(target, hooks, req, res).catch(() => res.destroy())
    })
    return proxy
  }

  private async handle(target: string, hooks: ProxyHooks, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const call: ProxyCall = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) }
    this.calls.push(call)
    const early = await hooks.before?.(call)
    if (early) {
      res.writeHead(early.status, { 'content-type': 'application/json' })
      res.end(early.body)
      return
    }
    const url = new URL(call.path, target)
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const headers = { ...req.headers, host: url.host }
      delete headers['content-length']
      delete headers['transfer-encoding']
      const out = httpRequest(url, { method: call.method, headers: { ...headers, 'content-length': String(call.body.length) } }, (r) => {
        const parts: Buffer[] = []
        r.on('data', (d: Buffer) => parts.push(d))
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(parts) }))
        r.on('error', reject)
      })
      out.on('error', reject)
      out.end(call.body)
    })
    // A batch's results_url names the simulator: it is pointed back at the proxy, so results pass through it too.
    const own = Buffer.from(answer.body.toString('utf8').split(target).join(this.url))
    const body = hooks.rewrite ? Buffer.from(hooks.rewrite(call, answer.status, own)) : own
    const headers = { ...answer.headers }
    delete headers['content-length']
    delete headers['transfer-encoding']
    res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) })
    res.end(body)
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }
}
