/**
 * HTTP plumbing shared by the three faces of the GitHub fake (the Twirp artifact service, the blob storage its
 * signed URLs point at, and the REST API): errors in each face's own envelope, body reading, request ids,
 * timestamps and GitHub's `page`/`per_page` pagination with a `Link` header.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { readLimitedBody } from './http-body.js'

/** Which service a route belongs to; decides authentication and the shape of error bodies. */
export type Protocol = 'rest' | 'twirp' | 'blob'

/** Twirp error codes the fake uses, with the HTTP status Twirp maps each to. */
const TWIRP_STATUS = {
  malformed: 400,
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  bad_route: 404,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  deadline_exceeded: 408,
  resource_exhausted: 429,
  internal: 500,
  unavailable: 503
} as const

export type TwirpCode = keyof typeof TWIRP_STATUS

/** Thrown by handlers; the dispatcher renders it in the envelope of the route's protocol. */
export class FakeError extends Error {
  readonly status: number
  /** Twirp `code` or Azure `x-ms-error-code`; derived from the status when absent. */
  readonly code: string | undefined
  /** The `errors` array of a REST 422 "Validation Failed". */
  readonly errors: unknown[] | undefined

  constructor(status: number, message: string, options: { code?: string; errors?: unknown[] } = {}) {
    super(message)
    this.status = status
    this.code = options.code
    this.errors = options.errors
  }
}

export const notFound = (): FakeError => new FakeError(404, 'Not Found')
export const unprocessable = (message: string): FakeError => new FakeError(422, message)
export const twirpError = (code: TwirpCode, msg: string): FakeError => new FakeError(TWIRP_STATUS[code], msg, { code })
export const blobError = (status: number, code: string, message: string): FakeError => new FakeError(status, message, { code })

/** REST 422 with GitHub's `errors` array, e.g. `[{resource:'PullRequest', code:'custom', message}]`. */
export function validationFailed(...errors: Array<Record<string, string>>): FakeError {
  return new FakeError(422, 'Validation Failed', { errors })
}

/** `json` is serialised; `raw` is sent as is (with its own content-type header); neither → empty body. */
export interface Reply {
  status: number
  headers?: Record<string, string>
  json?: unknown
  raw?: Buffer
}

export const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({
  status,
  json: body,
  ...(headers ? { headers } : {})
})

const TWIRP_CODE_BY_STATUS: Record<number, TwirpCode> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  408: 'deadline_exceeded',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  503: 'unavailable'
}

/** An error in the shape the protocol's real clients parse (they read `message`, `msg` or the XML `Code`). */
export function errorReply(protocol: Protocol, error: FakeError): Reply {
  if (protocol === 'twirp') {
    const code = error.code ?? TWIRP_CODE_BY_STATUS[error.status] ?? 'internal'
    return json({ code, msg: error.message }, error.status)
  }
  if (protocol === 'blob') {
    const code = error.code ?? 'InvalidInput'
    const xml = '<?xml version="1.0" encoding="utf-8"?>' + `<Error><Code>${code}</Code><Message>${escapeXml(error.message)}</Message></Error>`
    return {
      status: error.status,
      headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
      raw: Buffer.from(xml)
    }
  }
  const body: Record<string, unknown> = { message: error.message }
  if (error.errors) body.errors = error.errors
  body.documentation_url = 'https://docs.github.com/rest'
  body.status = String(error.status)
  return json(body, error.status)
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies

/**
 * Reads a request body, refusing it with 413 once it grows past `limit`; the rest is drained (and dropped) so the
 * client can finish sending and read the answer instead of seeing a reset connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readLimitedBody(req, limit, {
    tooLarge: () => new FakeError(413, 'Request body too large', { code: 'RequestBodyTooLarge' }),
    closed: () => new FakeError(400, 'The client closed the connection before sending its body.')
  })
}

const JSON_LIMIT = 100 * 1024 * 1024

/**
 * A JSON object body. Wording is GitHub's ("Problems parsing JSON"); the Twirp face sends the same error with
 * code `malformed`, which is what Twirp servers answer for an undecodable body.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, JSON_LIMIT)).toString('utf8')
  let value: unknown
  try {
    value = text === '' ? {} : JSON.parse(text)
  } catch {
    throw new FakeError(400, 'Problems parsing JSON', { code: 'malformed' })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FakeError(400, 'Body should be a JSON object', { code: 'malformed' })
  }
  return value as Record<string, unknown>
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

// ---------------------------------------------------------------------------------------------------------------
// Ids, timestamps, pagination

/** The look of GitHub's `x-github-request-id`, e.g. `C0DE:1A2B:3C4D5E:6F7A8B:65F0A1B2`. */
export function requestId(): string {
  const hex = (bytes: number): string => randomBytes(bytes).toString('hex').toUpperCase()
  return `${hex(2)}:${hex(2)}:${hex(3)}:${hex(3)}:${hex(4)}`
}

/** GitHub's REST timestamps: ISO 8601 in UTC without fractional seconds. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Protobuf JSON for google.protobuf.Timestamp (RFC 3339, `Z`), as the Twirp service sends it. */
export function protoTimestamp(ms: number): string {
  return new Date(ms).toISOString()
}

/**
 * One page of `items` as GitHub pages lists: `per_page` (default 30, at most 100) and 1-based `page`, with a
 * `Link` header carrying `prev`/`next`/`last`/`first` as applicable. Octokit's `paginate` follows `rel="next"`.
 */
export function pageOf<T>(items: readonly T[], url: URL, origin: string): { items: T[]; headers: Record<string, string> } {
  const perPage = clampInt(url.searchParams.get('per_page'), 30, 1, 100)
  const page = clampInt(url.searchParams.get('page'), 1, 1, Number.MAX_SAFE_INTEGER)
  const lastPage = Math.max(1, Math.ceil(items.length / perPage))
  const linkTo = (n: number): string => {
    const target = new URL(url.pathname + url.search, origin)
    target.searchParams.set('page', String(n))
    return `<${target.href}>`
  }
  const links: string[] = []
  if (page > 1) links.push(`${linkTo(Math.min(page - 1, lastPage))}; rel="prev"`)
  if (page < lastPage) links.push(`${linkTo(page + 1)}; rel="next"`, `${linkTo(lastPage)}; rel="last"`)
  if (page > 1) links.push(`${linkTo(1)}; rel="first"`)
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {}
  }
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? NaN : Number.parseInt(raw, 10)
  if (!Number.isFinite(value) || value < min) return fallback
  return Math.min(value, max)
}

// ---------------------------------------------------------------------------------------------------------------
// Routing

export interface RouteCall {
  req: IncomingMessage
  url: URL
  /** The pattern's capture groups, percent-decoded (octokit encodes `/` in `{ref}` as `%2F`). */
  params: string[]
}

export interface Route {
  method: string
  /**
   * Matched against the raw (still percent-encoded) path. REST routes with `repo: true` are matched against the
   * part after `/repos/{owner}/{repo}`, and only for this fake's repository.
   */
  pattern: RegExp
  protocol: Protocol
  repo?: boolean
  handler: (call: RouteCall) => Reply | Promise<Reply>
}

/** A REST route under this fake's repository (`/repos/{owner}/{repo}` + pattern). */
export function repoRoute(method: string, pattern: RegExp, handler: Route['handler']): Route {
  return { method, pattern, protocol: 'rest', repo: true, handler }
}

/** A decoded path segment; a malformed escape is kept as is (it then names nothing, → 404). */
export function decodeParam(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '')
  } catch {
    return raw ?? ''
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared model

/** A workflow run whose steps can talk to the fake (see `GitHubFake.addRun`). */
export interface FakeRun {
  id: number
  /** The Actions.Results backend ids carried in the runtime token's `scp` claim. */
  backendId: string
  jobBackendId: string
  event: string
  headBranch: string
  headSha: string
  /** owner/name; another repository than the fake's models a run for a pull request from a fork. */
  headRepository: string
}

export interface RepoInfo {
  owner: string
  name: string
  /** owner/name */
  fullName: string
  id: number
  defaultBranch: string
}

/** What the route modules need from the fake itself. */
export interface FakeContext {
  /** Origin the fake listens on; links and signed URLs point back at it. */
  readonly url: string
  readonly repo: RepoInfo
  now(): number
  /** The numeric id of a repository: the fake's own, or a stable made-up one for a fork. */
  repoId(fullName: string): number
  /** The short repository object GitHub nests in runs and pull requests. */
  repoSummary(fullName: string): Record<string, unknown>
  run(id: number): FakeRun | undefined
  runByBackendIds(runBackendId: string, jobBackendId: string): FakeRun | undefined
}
