/**
 * HTTP plumbing shared by the simulator's endpoints: errors in the API's envelope, body reading with a size
 * limit, ids, timestamps and cursor pagination.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readLimitedBody } from './http-body.js'
import { sha256Hex } from './simulator-text.js'

/** `error.type` the real API uses for each status (batch-api.md §3.3). */
const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error'
}

export function errorTypeForStatus(status: number): string {
  return ERROR_TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
}

/** Thrown by handlers; the dispatcher turns it into `{"type":"error","error":{type,message},"request_id"}`. */
export class SimError extends Error {
  readonly status: number
  readonly type: string
  readonly headers: Record<string, string>

  constructor(status: number, message: string, type = errorTypeForStatus(status), headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.type = type
    this.headers = headers
  }
}

export const invalidRequest = (message: string): SimError => new SimError(400, message)
export const notFound = (message: string): SimError => new SimError(404, message)

export interface JsonReply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

/** A streamed body (the results JSONL): each string is written as it is produced, never joined in memory. */
export interface StreamReply {
  status: number
  contentType: string
  lines: Iterable<string>
}

export type Reply = JsonReply | StreamReply

export const json = (body: unknown, status = 200): JsonReply => ({ status, body })

export function errorBody(status: number, type: string, message: string, requestId: string): JsonReply {
  return { status, body: { type: 'error', error: { type, message }, request_id: requestId } }
}

// ---------------------------------------------------------------------------------------------------------------
// Ids and timestamps

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function base62(bytes: Uint8Array, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += BASE62[bytes[i % bytes.length]! % 62]
  return out
}

/**
 * `prefix` + "01" + 22 base62 characters: the look of real ids (`msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d`,
 * `req_011CSHoEeqs5C35K2UUqR7Fy`). The doc warns their format may change, so nothing should parse them.
 */
export function randomId(prefix: string): string {
  return `${prefix}01${base62(randomBytes(22), 22)}`
}

/** Same look as `randomId`, but a pure function of `seed`: repeated results downloads show identical ids. */
export function derivedId(prefix: string, seed: string): string {
  return `${prefix}01${base62(Buffer.from(sha256Hex(seed), 'hex'), 22)}`
}

/** RFC 3339 with 6 fractional digits and `Z`, like `2024-09-24T18:37:24.100435Z` (our clock has ms only). */
export function timestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies

/**
 * Reads a request body, refusing it with 413 as soon as it grows past `limit`. Bytes are counted as they arrive;
 * past the limit nothing more is kept, but the rest is still drained (and dropped) so that the client can finish
 * sending and read our answer instead of seeing a reset connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readLimitedBody(req, limit, {
    // Wording of the real 413, which Cloudflare sends before the API sees the request (batch-api.md §3.3).
    tooLarge: () => new SimError(413, 'Request exceeds the maximum size', 'request_too_large'),
    closed: () => new SimError(400, 'The client closed the connection before sending its body.')
  })
}

/** Reads and parses a JSON body; anything but valid JSON is the API's 400 (batch-api.md §3.2). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBody(req, limit)).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw invalidRequest(`The request body is not valid JSON: ${(error as Error).message}`)
  }
}

export { drain } from './http-body.js'

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

// ---------------------------------------------------------------------------------------------------------------
// Pagination

export interface PageBody<T> {
  data: T[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

const MAX_LIMIT = 1000
const DEFAULT_LIMIT = 20

/** `limit` with the API's bounds (1..1000, default 20) and pydantic-style messages. */
export function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT
  if (!/^-?\d+$/.test(raw.trim())) {
    throw invalidRequest('limit: Input should be a valid integer, unable to parse string as an integer')
  }
  const limit = Number(raw)
  if (limit < 1) throw invalidRequest('limit: Input should be greater than or equal to 1')
  if (limit > MAX_LIMIT) throw invalidRequest(`limit: Input should be less than or equal to ${MAX_LIMIT}`)
  return limit
}

/**
 * One page of `ordered` (newest first) as the list endpoints answer it.
 * - no cursor: the first `limit` items; `after_id=X`: the `limit` items right after X (older);
 *   `before_id=X`: the `limit` items right before X (newer), still newest first.
 * - `has_more` tells whether more items lie further in the direction being paged, which is what the SDK's
 *   auto-pagination follows (`after_id=last_id`, or `before_id=first_id` when paging backwards).
 * Cursors are positioned in `ordered`, which may hold items `visible` hides (deleted batches, filtered models), so a
 * cursor stays valid after its item is deleted.
 */
export function paginate<T extends { id: string }, R>(ordered: readonly T[], query: URLSearchParams, visible: (item: T) => boolean, render: (item: T) => R): PageBody<R> {
  const limit = parseLimit(query.get('limit'))
  const afterId = query.get('after_id')
  const beforeId = query.get('before_id')
  if (afterId !== null && beforeId !== null) throw invalidRequest('Only one of after_id and before_id may be given.')

  let page: T[]
  let hasMore: boolean
  if (beforeId !== null) {
    const newer = ordered.slice(0, cursorIndex(ordered, beforeId, 'before_id')).filter(visible)
    page = newer.slice(-limit)
    hasMore = newer.length > limit
  } else {
    const start = afterId === null ? 0 : cursorIndex(ordered, afterId, 'after_id') + 1
    const older = ordered.slice(start).filter(visible)
    page = older.slice(0, limit)
    hasMore = older.length > limit
  }
  return {
    data: page.map(render),
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null
  }
}

function cursorIndex(ordered: readonly { id: string }[], id: string, name: string): number {
  const index = ordered.findIndex((item) => item.id === id)
  // The docs don't say what an unknown cursor does; a clear 400 beats silently returning an empty page.
  if (index < 0) throw invalidRequest(`${name}: no object with id ${id} exists`)
  return index
}

// ---------------------------------------------------------------------------------------------------------------
// Streams

// Lines are sent in chunks of about this size, as a real server's buffered writer would: one HTTP chunk per
// line would make 100,000 results cost the client far more parsing than the real service does.
const STREAM_CHUNK_BYTES = 64 * 1024

/**
 * Writes a JSONL stream in chunks of whole lines, honouring backpressure. With `cutAfter`, the connection is closed
 * after that many lines without ending the chunked body: the client sees a mid-stream disconnect (`TypeError: terminated`).
 */
export async function writeStream(res: ServerResponse, reply: StreamReply, cutAfter: number | undefined): Promise<void> {
  res.writeHead(reply.status, { 'content-type': reply.contentType })
  let written = 0
  let pending: string[] = []
  let pendingBytes = 0
  const flush = async (): Promise<void> => {
    if (!pending.length) return
    const chunk = pending.join('')
    pending = []
    pendingBytes = 0
    if (!res.write(chunk)) await drained(res)
  }
  for (const line of reply.lines) {
    if (cutAfter !== undefined && written >= cutAfter) break
    pending.push(line)
    pendingBytes += line.length
    written++
    if (pendingBytes >= STREAM_CHUNK_BYTES) await flush()
    if (res.destroyed) return
  }
  await flush()
  if (cutAfter === undefined) {
    res.end()
    return
  }
  res.flushHeaders()
  // end(), not destroy(): it first flushes what was written, so the client really gets `cutAfter` lines.
  res.socket?.end()
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
