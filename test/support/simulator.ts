/**
 * A local simulator of Anthropic's Message Batches API, Models API and count_tokens endpoint, faithful enough
 * that the real `@anthropic-ai/sdk` runs against it unchanged (`new Anthropic({ apiKey, baseURL: sim.url })`).
 * The behaviour follows /work/shared/reference/batch-api.md (§10 is the checklist); where that document is silent
 * the choice made here is marked "Assumption".
 *
 * Time model: everything is evaluated lazily against `now()` when a call arrives, so tests can move a fake clock
 * (24 h for expiry, 29 days for archiving) instead of waiting. A batch's request i (of n) is considered done at
 * `created + processingMs * (i + 1) / n`; as in the docs, all counts move from `processing` at once when the batch
 * ends, but a cancel or an expiry only lets the requests done by then keep their results.
 *
 * Faults (vocabulary shared with the GitHub fake, test/support/faults.ts): `sim.injectFault({ method?, path,
 * after?, times?, kind, ... })` hits the matching call number `after + 1` (and the `times - 1` after it). `path`
 * is '/v1/messages/batches' (create is POST, list GET), /\/v1\/messages\/batches\/[^/?]+$/ (status), /\/cancel$/,
 * /\/results$/, /^\/v1\/models/, '/v1/messages/count_tokens'. Kinds, as the real SDK sees them:
 * - `status`: nothing is done; the API's error envelope with that status (`retry-after-ms: 1`, so SDK retries
 *   are fast; `headers` replaces that, e.g. `{ 'x-should-retry': 'false' }`).
 * - `hang`: the request is read and never answered: the SDK throws APIConnectionTimeoutError at its `timeout`;
 *   `sim.close()` ends the hung connection.
 * - `lose-answer`: the work is done (a create really creates), then the connection drops (APIConnectionError) or
 *   `status` is answered instead, which the SDK retries: a duplicate.
 * - `garble`: nothing is done; 200 with an HTML page (the SDK hands back the text instead of an object) or the
 *   `body`/`contentType` given (e.g. TRUNCATED_JSON as application/json: a SyntaxError from the SDK).
 * - `delay`: the work is done at once and the answer sent `ms` later (unless the client gave up).
 * - `cut-stream`: the answer stops midway: after `afterLines` results lines, or `afterBytes` (default half) of
 *   a JSON body; the SDK sees `TypeError: terminated`.
 * `sim.calls` records every call with the status answered (0 when none was).
 *
 * Structured output (simulator-json.ts): a request with `output_config.format` gets JSON that fits its schema;
 * a malformed `output_config`, a refused keyword or a model without structured outputs is an errored row
 * (params are validated asynchronously in a batch). Per request, `SIMULATE_INVALID_JSON` and
 * `SIMULATE_SCHEMA_MISMATCH` in the prompt give a reply that is not JSON or does not fit.
 *
 * Prompt caching follows the docs (simulator-cache.ts): within a batch the first request with a cacheable
 * prefix (a `cache_control` breakpoint at or above the model's minimum) writes it, later ones read it, and
 * `usage.input_tokens` excludes the cached tokens.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FaultLifetime, FaultQueue, garbledBody, type Fault as SharedFault } from './faults.js'
import {
  derivedId,
  drain,
  errorBody,
  errorTypeForStatus,
  invalidRequest,
  json,
  notFound,
  paginate,
  randomId,
  readJson,
  SimError,
  timestamp,
  writeStream,
  type JsonReply,
  type Reply,
  type StreamReply
} from './simulator-http.js'
import { batchCacheUsage } from './simulator-cache.js'
import { DEFAULT_MODELS, findModel, newestFirst, toModelInfo, type SimModel } from './simulator-models.js'
import { countTokens, parseCreateBody, processRequest, resultLine, shuffledOrder, type BatchItem, type RowOutcome } from './simulator-requests.js'

export type { SimModel } from './simulator-models.js'
export { DEFAULT_MODELS } from './simulator-models.js'
export { estimateInputTokens } from './simulator-text.js'

export const DEFAULT_API_KEY = 'sk-ant-api03-simulator-key'

const HOUR_MS = 3_600_000
const EXPIRY_MS = 24 * HOUR_MS
/** Results stay downloadable for 29 days after creation (not after the end), batch-api.md §5. */
const ARCHIVE_MS = 29 * 24 * HOUR_MS
const MAX_BATCH_BODY_BYTES = 256 * 1024 * 1024
const MAX_COUNT_TOKENS_BODY_BYTES = 32 * 1024 * 1024
const API_VERSIONS = ['2023-06-01', '2026-10-21']
/** Keeps SDK retries after injected errors fast (the SDK honours `retry-after-ms` before its 0.5 s backoff). */
const FAST_RETRY = { 'retry-after-ms': '1' }

export interface SimulatorOptions {
  /** 0 (default) = a random free port on 127.0.0.1. */
  port?: number
  /** Accepted keys (default `[DEFAULT_API_KEY]`); anything else → 401. */
  apiKeys?: string[]
  /** Time from create to `ended` (default 0: ended on the first retrieve after create). */
  processingMs?: number
  /** Clock in ms (default `Date.now`); lets tests jump ahead 24 h / 29 days. */
  now?: () => number
  /** The first N retrieves (and results calls) of each new batch answer 404, like the real propagation delay. */
  notFoundAfterCreate?: number
  /** Create body limit (default 256 MB); above → 413 request_too_large. */
  maxBodyBytes?: number
  /** Default 100,000. */
  maxRequestsPerBatch?: number
  /** Override the model catalogue (default `DEFAULT_MODELS`). */
  models?: SimModel[]
}

export type ProcessingStatus = 'in_progress' | 'canceling' | 'ended'

/** One HTTP call as received. `status` is 0 while unanswered, and stays 0 if no answer was ever sent. */
export interface SimCall {
  method: string
  /** Path with query string, e.g. `/v1/messages/batches?limit=2`. */
  path: string
  /** Request headers, names lowercased. */
  headers: Record<string, string>
  status: number
}

export interface SimBatchView {
  id: string
  createdAt: string
  processingStatus: ProcessingStatus
  deleted: boolean
  /** The `anthropic-version` the batch was created with. */
  anthropicVersion: string
  requestCount: number
  customIds: string[]
  /** The items exactly as submitted (shared, not copied: don't mutate). */
  requests: readonly BatchItem[]
}

/**
 * A fault for the next matching call(s): the shared vocabulary of test/support/faults.ts (see the top of this
 * file for what each kind does here). Error answers carry `retry-after-ms: 1` unless `headers` is given.
 */
export type Fault = SharedFault

interface RequestCounts {
  processing: number
  succeeded: number
  errored: number
  canceled: number
  expired: number
}

interface BatchRecord {
  id: string
  createdMs: number
  version: string
  items: BatchItem[]
  status: ProcessingStatus
  cancelInitiatedMs: number | null
  endedMs: number | null
  /** Last time a caller was shown this batch unfinished; `ended_at` never goes back before it. */
  lastSeenActiveMs: number
  /** One per item, in submission order, once ended. */
  outcomes: RowOutcome[] | null
  counts: RequestCounts | null
  deleted: boolean
  /** Retrieves/results calls still to answer 404 (`notFoundAfterCreate`). */
  hiddenLooksLeft: number
}

type Handler = (req: IncomingMessage, url: URL, id: string, version: string) => Reply | Promise<Reply>

interface Route {
  method: string
  pattern: RegExp
  handler: Handler
}

export class BatchSimulator {
  readonly url: string
  readonly calls: SimCall[] = []

  private readonly server: Server
  private readonly apiKeys: Set<string>
  private readonly now: () => number
  private readonly notFoundAfterCreate: number
  private readonly maxBodyBytes: number
  private readonly maxRequestsPerBatch: number
  private readonly models: readonly SimModel[]
  private processingMs: number
  private readonly store: BatchRecord[] = []
  private readonly byId = new Map<string, BatchRecord>()
  private readonly faults = new FaultQueue()
  /** Ended on close, so delayed and hung answers keep no timer or connection alive. */
  private readonly lifetime = new FaultLifetime()

  private readonly routes: Route[] = [
    { method: 'POST', pattern: /^\/v1\/messages\/batches$/, handler: (req, _u, _id, v) => this.createBatch(req, v) },
    { method: 'GET', pattern: /^\/v1\/messages\/batches$/, handler: (_r, url) => this.listBatches(url.searchParams) },
    { method: 'GET', pattern: /^\/v1\/messages\/batches\/([^/]+)$/, handler: (_r, _u, id) => this.retrieveBatch(id) },
    { method: 'DELETE', pattern: /^\/v1\/messages\/batches\/([^/]+)$/, handler: (_r, _u, id) => this.deleteBatch(id) },
    { method: 'POST', pattern: /^\/v1\/messages\/batches\/([^/]+)\/cancel$/, handler: (_r, _u, id) => this.cancelBatch(id) },
    { method: 'GET', pattern: /^\/v1\/messages\/batches\/([^/]+)\/results$/, handler: (_r, _u, id) => this.results(id) },
    { method: 'POST', pattern: /^\/v1\/messages\/count_tokens$/, handler: (req) => this.countTokens(req) },
    { method: 'GET', pattern: /^\/v1\/models$/, handler: (_r, url) => this.listModels(url.searchParams) },
    { method: 'GET', pattern: /^\/v1\/models\/([^/]+)$/, handler: (_r, _u, id) => this.retrieveModel(id) }
  ]

  static async start(options: SimulatorOptions = {}): Promise<BatchSimulator> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as AddressInfo
    return new BatchSimulator(server, `http://127.0.0.1:${port}`, options)
  }

  private constructor(server: Server, url: string, options: SimulatorOptions) {
    this.server = server
    this.url = url
    this.apiKeys = new Set(options.apiKeys ?? [DEFAULT_API_KEY])
    this.now = options.now ?? Date.now
    this.processingMs = options.processingMs ?? 0
    this.notFoundAfterCreate = options.notFoundAfterCreate ?? 0
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BATCH_BODY_BYTES
    this.maxRequestsPerBatch = options.maxRequestsPerBatch ?? 100_000
    this.models = options.models ?? DEFAULT_MODELS
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        console.error('Batch API simulator: failed to answer', error)
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

  /**
   * Changes the processing time of every batch that has not ended yet: 0 lets them all end at the next look,
   * `Infinity` means they never finish on their own (everything still running expires at 24 h).
   */
  setProcessingMs(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`processingMs must be >= 0, got ${ms}`)
    this.processingMs = ms
  }

  /** Every batch ever created (including deleted), oldest first, with the items it was created with. */
  batches(): SimBatchView[] {
    return this.store.map((batch) => {
      this.settle(batch, false)
      return {
        id: batch.id,
        createdAt: timestamp(batch.createdMs),
        processingStatus: batch.status,
        deleted: batch.deleted,
        anthropicVersion: batch.version,
        requestCount: batch.items.length,
        customIds: batch.items.map((item) => item.custom_id),
        requests: batch.items
      }
    })
  }

  /** Queues a fault for the next matching call(s); faults are matched in the order they were injected. */
  injectFault(fault: Fault): void {
    this.faults.add(fault)
  }

  /** Forgets every fault not yet used up. */
  clearFaults(): void {
    this.faults.clear()
  }

  // -------------------------------------------------------------------------------------------------------------
  // Dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid')
    const call: SimCall = {
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers: flattenHeaders(req.headers),
      status: 0
    }
    this.calls.push(call)
    const requestId = randomId('req_')
    const fault = this.faults.take(call.method, url)

    // Faults that stand in for the service being unable to work: nothing is done, the body is just drained.
    if (fault?.kind === 'status') {
      await drain(req)
      return this.send(res, call, requestId, faultReply(fault, requestId))
    }
    if (fault?.kind === 'hang') {
      await drain(req)
      await this.lifetime.closed() // close() then closes the connection; the client may have given up before
      return
    }
    if (fault?.kind === 'garble') {
      await drain(req)
      if (res.destroyed) return
      const { body, contentType } = garbledBody(fault)
      call.status = 200
      res.writeHead(200, { 'request-id': requestId, 'content-type': contentType, 'content-length': body.length })
      res.end(body)
      return
    }
    let reply = await this.process(req, url, requestId)
    if (fault?.kind === 'lose-answer') {
      // The work is done (e.g. the batch exists) but the client never learns it: the duplicate-create hazard.
      if (fault.status === undefined) {
        req.socket.destroy()
        return
      }
      reply = withHeaders(errorBody(fault.status, errorTypeForStatus(fault.status), 'Simulated lost answer', requestId))
    }
    // The work is done at once; only the answer waits, as when a slow network hides a fast service.
    if (fault?.kind === 'delay' && (await this.lifetime.wait(fault.ms))) return
    await this.send(res, call, requestId, reply, fault?.kind === 'cut-stream' ? fault : undefined)
  }

  /**
   * Routes, authenticates and runs a call; every failure becomes an error reply in the API's envelope.
   * Assumption: routing comes first, so an unknown path (or method) is a 404 whatever the credentials.
   */
  private async process(req: IncomingMessage, url: URL, requestId: string): Promise<Reply> {
    try {
      for (const route of this.routes) {
        const match = route.pattern.exec(url.pathname)
        if (!match || route.method !== req.method) continue
        this.authenticate(req.headers)
        const version = apiVersion(req.headers)
        return await route.handler(req, url, pathSegment(match[1]), version)
      }
      throw notFound('The requested resource could not be found.')
    } catch (error) {
      if (error instanceof SimError) {
        return { ...errorBody(error.status, error.type, error.message, requestId), headers: error.headers }
      }
      console.error('Batch API simulator: internal error', error)
      return errorBody(500, 'api_error', `Internal server error: ${(error as Error).message}`, requestId)
    }
  }

  /** Accepts `x-api-key: KEY` (classic) or `Authorization: Bearer KEY` (what SDK 1.x sends), batch-api.md §1. */
  private authenticate(headers: IncomingHttpHeaders): void {
    const apiKey = headerValue(headers, 'x-api-key')
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '')?.[1]
    const key = apiKey ?? bearer
    // Assumption: the wording for a missing key is the classic one; the doc only gives the invalid-key text.
    if (key === undefined) throw new SimError(401, 'x-api-key header is required')
    if (!this.apiKeys.has(key)) throw new SimError(401, 'API key is invalid.')
  }

  private async send(res: ServerResponse, call: SimCall, requestId: string, reply: Reply, cut?: { afterLines?: number; afterBytes?: number }): Promise<void> {
    if (res.destroyed) return // the client gave up (e.g. its timeout fired during a delay)
    call.status = reply.status
    res.setHeader('request-id', requestId)
    if ('lines' in reply) return writeStream(res, reply, cut && (cut.afterLines ?? 0))
    const body = Buffer.from(JSON.stringify(reply.body))
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json',
      'content-length': body.length
    })
    if (!cut) {
      res.end(body)
      return
    }
    // The full length was announced, so the client knows the body stopped short.
    res.write(body.subarray(0, cut.afterBytes ?? Math.floor(body.length / 2)))
    res.socket?.end()
  }

  // -------------------------------------------------------------------------------------------------------------
  // Message Batches

  private async createBatch(req: IncomingMessage, version: string): Promise<Reply> {
    const items = parseCreateBody(await readJson(req, this.maxBodyBytes), this.maxRequestsPerBatch)
    const now = this.now()
    const batch: BatchRecord = {
      id: randomId('msgbatch_'),
      createdMs: now,
      version,
      items,
      status: 'in_progress',
      cancelInitiatedMs: null,
      endedMs: null,
      lastSeenActiveMs: now,
      outcomes: null,
      counts: null,
      deleted: false,
      hiddenLooksLeft: this.notFoundAfterCreate
    }
    this.store.push(batch)
    this.byId.set(batch.id, batch)
    return json(this.render(batch)) // a new batch is always in_progress, however short processingMs is
  }

  private retrieveBatch(id: string): Reply {
    const batch = this.lookup(id, true)
    this.settle(batch, true)
    return json(this.render(batch))
  }

  private listBatches(query: URLSearchParams): Reply {
    const newestFirstBatches = [...this.store].reverse()
    return json(
      paginate(
        newestFirstBatches,
        query,
        (batch) => !batch.deleted,
        (batch) => {
          this.settle(batch, true)
          return this.render(batch)
        }
      )
    )
  }

  private cancelBatch(id: string): Reply {
    const batch = this.lookup(id)
    this.settle(batch, false)
    if (batch.status === 'in_progress') {
      batch.status = 'canceling'
      batch.cancelInitiatedMs = this.now()
    }
    // Assumption (undocumented): canceling an ended or already-canceling batch returns it unchanged, no error.
    return json(this.render(batch))
  }

  private deleteBatch(id: string): Reply {
    const batch = this.lookup(id)
    this.settle(batch, false)
    if (batch.status !== 'ended') {
      throw invalidRequest('In progress batches cannot be deleted. Consider canceling the batch instead.')
    }
    batch.deleted = true // later calls for this id answer 404, like an unknown id (assumption)
    return json({ id: batch.id, type: 'message_batch_deleted' })
  }

  private results(id: string): Reply {
    const batch = this.lookup(id, true)
    this.settle(batch, false)
    const noResults = notFound(`Message Batch ${id} has no available results.`)
    if (batch.status !== 'ended') throw noResults
    // Assumption: once archived (29 days after creation) the results answer the same 404 as before the end.
    if (this.isArchived(batch)) throw noResults
    const reply: StreamReply = { status: 200, contentType: 'application/x-jsonl', lines: this.resultLines(batch) }
    return reply
  }

  /** One line per request, in a shuffled order (the API guarantees none); generated as they are written. */
  private *resultLines(batch: BatchRecord): Generator<string> {
    const outcomes = batch.outcomes ?? []
    for (const index of shuffledOrder(batch.items.length, batch.id)) {
      const item = batch.items[index]!
      yield resultLine(item, outcomes[index]!, derivedId('msg_', `${batch.id}/${item.custom_id}`))
    }
  }

  private lookup(id: string, propagationDelay = false): BatchRecord {
    const batch = this.byId.get(id)
    const missing = notFound(`Message Batch ${id} not found.`)
    if (!batch || batch.deleted) throw missing
    if (propagationDelay && batch.hiddenLooksLeft > 0) {
      batch.hiddenLooksLeft--
      throw missing
    }
    return batch
  }

  /**
   * Brings a batch up to date with the clock. `observe` is true when the caller is shown the batch (retrieve,
   * list): a canceling batch ends at the next such look (assumption: the doc only says "shortly after"; one look
   * keeps `canceling` visible once, to the cancel call itself, without making tests wait).
   */
  private settle(batch: BatchRecord, observe: boolean): void {
    if (batch.status === 'ended') return
    const now = this.now()
    const expiresMs = batch.createdMs + EXPIRY_MS
    if (batch.status === 'canceling') {
      if (observe) this.end(batch, Math.min(now, expiresMs), batch.cancelInitiatedMs ?? now, 'canceled')
      return
    }
    const doneMs = batch.createdMs + this.processingMs
    if (doneMs <= expiresMs && now >= doneMs) {
      // Every request is done by doneMs, so none is left to expire.
      this.end(batch, Math.max(doneMs, batch.lastSeenActiveMs), doneMs, 'expired')
    } else if (doneMs > expiresMs && now >= expiresMs) {
      // Processing outlived the 24 h window: what was not done by then expires, and the batch ends at expires_at.
      this.end(batch, expiresMs, expiresMs, 'expired')
    } else if (observe) {
      batch.lastSeenActiveMs = now
    }
  }

  /** Ends a batch: requests done by `cutoffMs` get their real outcome, the others `unfinished`. */
  private end(batch: BatchRecord, endedMs: number, cutoffMs: number, unfinished: 'canceled' | 'expired'): void {
    const n = batch.items.length
    const processingMs = this.processingMs
    const doneBy = (index: number): boolean => batch.createdMs + processingMs * ((index + 1) / n) <= cutoffMs
    const base = { models: this.models, version: batch.version, workerRequestId: () => randomId('workerreq_') }
    batch.outcomes = batch.items.map((item, index) => (doneBy(index) ? processRequest(item.params, base) : { type: unfinished }))
    // Prompt caching within the batch: who writes a prefix and who reads it (simulator-cache.ts).
    const outcomes = batch.outcomes
    batchCacheUsage(
      batch.items,
      outcomes.map((o) => (o.type === 'succeeded' ? o.model : undefined))
    ).forEach((cache, i) => {
      const outcome = outcomes[i]!
      if (cache && outcome.type === 'succeeded') outcome.cache = cache
    })
    batch.counts = countOutcomes(batch.outcomes)
    batch.status = 'ended'
    batch.endedMs = endedMs
  }

  private isArchived(batch: BatchRecord): boolean {
    return this.now() >= batch.createdMs + ARCHIVE_MS
  }

  /** The MessageBatch object, fields in the order of the doc's example (batch-api.md §2). */
  private render(batch: BatchRecord): Record<string, unknown> {
    const ended = batch.status === 'ended'
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: batch.status,
      request_counts: batch.counts ?? { ...countOutcomes([]), processing: batch.items.length },
      ended_at: batch.endedMs === null ? null : timestamp(batch.endedMs),
      created_at: timestamp(batch.createdMs),
      expires_at: timestamp(batch.createdMs + EXPIRY_MS),
      archived_at: this.isArchived(batch) ? timestamp(batch.createdMs + ARCHIVE_MS) : null,
      cancel_initiated_at: batch.cancelInitiatedMs === null ? null : timestamp(batch.cancelInitiatedMs),
      // Must point back at this simulator: the SDK fetches results_url verbatim, not rebased on its baseURL.
      results_url: ended ? `${this.url}/v1/messages/batches/${batch.id}/results` : null
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // count_tokens and Models

  private async countTokens(req: IncomingMessage): Promise<Reply> {
    return json(countTokens(await readJson(req, MAX_COUNT_TOKENS_BODY_BYTES), this.models))
  }

  private listModels(query: URLSearchParams): Reply {
    const lifecycles = parseLifecycles(query)
    return json(paginate(newestFirst(this.models), query, (m) => lifecycles.has(m.lifecycle), toModelInfo))
  }

  /** Resolves aliases; retired models stay retrievable with `lifecycle: "retired"` (assumption). */
  private retrieveModel(id: string): Reply {
    const model = findModel(this.models, id)
    if (!model) throw notFound(`model: ${id}`)
    return json(toModelInfo(model))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** A decoded id from the path; a malformed escape simply names nothing (→ 404), it is not a server error. */
function pathSegment(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '')
  } catch {
    return raw ?? ''
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]))
}

function apiVersion(headers: IncomingHttpHeaders): string {
  const version = headerValue(headers, 'anthropic-version')
  if (!version) throw invalidRequest('anthropic-version: header is required')
  // Assumption: the doc gives no wording for an unknown version.
  if (!API_VERSIONS.includes(version)) {
    throw invalidRequest(`anthropic-version: "${version}" is not a valid version (valid: ${API_VERSIONS.join(', ')})`)
  }
  return version
}

const LIFECYCLES = ['active', 'deprecated', 'retired'] as const

/** `lifecycle[]=…` (the SDK's bracket form) or plain `lifecycle=…`; omitted → active and deprecated. */
function parseLifecycles(query: URLSearchParams): Set<string> {
  const values = [...query.getAll('lifecycle[]'), ...query.getAll('lifecycle')]
  values.forEach((value, index) => {
    if (!(LIFECYCLES as readonly string[]).includes(value)) {
      throw invalidRequest(`lifecycle.${index}: Input should be 'active', 'deprecated' or 'retired'`)
    }
  })
  return new Set(values.length > 0 ? values : ['active', 'deprecated'])
}

const FAULT_MESSAGES: Record<string, string> = {
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  timeout_error: 'Request timed out'
}

function faultReply(fault: Fault & { kind: 'status' }, requestId: string): JsonReply {
  const type = fault.errorType ?? errorTypeForStatus(fault.status)
  const reply = errorBody(fault.status, type, fault.message ?? FAULT_MESSAGES[type] ?? `Simulated ${type}`, requestId)
  return fault.headers ? { ...reply, headers: fault.headers } : withHeaders(reply)
}

function withHeaders(reply: JsonReply): JsonReply {
  return { ...reply, headers: { ...FAST_RETRY, ...reply.headers } }
}

function countOutcomes(outcomes: readonly RowOutcome[]): RequestCounts {
  const counts: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  for (const outcome of outcomes) counts[outcome.type]++
  return counts
}
