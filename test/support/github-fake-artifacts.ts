/**
 * Actions artifacts, one store seen through three services: the Twirp results service `@actions/artifact`
 * uploads through (CreateArtifact → blob PUTs → FinalizeArtifact), the blob storage its signed URLs point at, and
 * the public REST API other runs list and download through (`findBy`, octokit). What the client sends is in
 * /work/shared/reference/toolchain.md §5; field names follow the client's generated protobuf code.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { inflateRawSync } from 'node:zlib'
import { nodeId } from './github-fake-git.js'
import {
  blobError,
  FakeError,
  headerValue,
  json,
  notFound,
  pageOf,
  protoTimestamp,
  readBody,
  readJsonObject,
  timestamp,
  twirpError,
  type FakeContext,
  type FakeRun,
  type Reply,
  type Route,
  repoRoute,
  type RouteCall
} from './github-fake-http.js'

const DAY_MS = 86_400_000
/** Retention when CreateArtifact carries no `expires_at` (the default for public repositories). */
const DEFAULT_RETENTION_MS = 90 * DAY_MS
const MAX_BLOCK_BYTES = 256 * 1024 * 1024
const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/'

export interface FakeArtifactView {
  id: number
  name: string
  runId: number
  size: number
  createdAt: string
  expiresAt: string
  expired: boolean
  deleted: boolean
  /** False while created but not (yet, or ever) finalized; such artifacts are invisible to every API. */
  finalized: boolean
  /** `sha256:<hex>` of the stored bytes, once finalized. */
  digest: string | undefined
  mimeType: string
  /** The zip's files (or, for a `skipArchive` upload, the one file under the artifact's name). */
  files(): Promise<Record<string, Buffer>>
}

interface ArtifactRecord {
  id: number
  name: string
  run: FakeRun
  jobBackendId: string
  blobKey: string
  mimeType: string
  createdMs: number
  expiresMs: number
  finalizedMs: number | null
  size: number
  digest: string | undefined
  expiredByHand: boolean
  deleted: boolean
}

interface BlobRecord {
  /** Staged blocks by (decoded) block id, until a block list commits them. */
  blocks: Map<string, Buffer>
  committed: Buffer | null
  contentType: string | undefined
}

interface Identity {
  runBackendId: string
  jobBackendId: string
}

export class FakeArtifacts {
  private readonly records: ArtifactRecord[] = []
  private readonly blobs = new Map<string, BlobRecord>()
  /** Artifact ids are global, increasing, and far from run ids so that mixing the two up fails loudly. */
  private nextId = 9001

  constructor(private readonly ctx: FakeContext) {}

  routes(): Route[] {
    const twirp = (method: string, handler: (body: Record<string, unknown>, who: Identity) => Reply): Route => ({
      method: 'POST',
      pattern: new RegExp(`^${TWIRP_PREFIX.replace(/\./g, '\\.')}${method}$`),
      protocol: 'twirp',
      handler: async (call) => {
        const body = await readJsonObject(call.req)
        return handler(body, this.checkIdentity(body, this.authenticate(call.req)))
      }
    })
    return [
      twirp('CreateArtifact', (body, who) => this.createArtifact(body, who)),
      twirp('FinalizeArtifact', (body, who) => this.finalizeArtifact(body, who)),
      twirp('ListArtifacts', (body, who) => this.listTwirp(body, who)),
      twirp('GetSignedArtifactURL', (body, who) => this.signedUrl(body, who)),
      twirp('DeleteArtifact', (body, who) => this.deleteTwirp(body, who)),
      { method: 'PUT', pattern: /^\/blob\/([^/]+)$/, protocol: 'blob', handler: (c) => this.putBlob(c) },
      { method: 'GET', pattern: /^\/blob-download\/([^/]+)$/, protocol: 'blob', handler: (c) => this.getBlob(c) },
      repoRoute('GET', /^\/actions\/artifacts$/, (c) => this.listRest(c.url, () => true)),
      repoRoute('GET', /^\/actions\/runs\/(\d+)\/artifacts$/, (c) => this.listRunRest(c)),
      repoRoute('GET', /^\/actions\/artifacts\/(\d+)$/, (c) => json(this.render(this.visible(c.params[0]!)))),
      repoRoute('GET', /^\/actions\/artifacts\/(\d+)\/([^/]+)$/, (c) => this.download(c.params[0]!, c.params[1]!)),
      repoRoute('DELETE', /^\/actions\/artifacts\/(\d+)$/, (c) => this.deleteRest(c.params[0]!))
    ]
  }

  /**
   * A finalized artifact with no content, made `createdMs` ago-or-when the caller says, without the upload
   * protocol: the other workflows' artifacts that fill a busy repository's list (tests of how far it is paged).
   */
  seed(name: string, run: FakeRun, createdMs: number): number {
    const record: ArtifactRecord = {
      id: this.nextId++,
      name,
      run,
      jobBackendId: run.jobBackendId,
      blobKey: randomUUID(),
      mimeType: 'application/zip',
      createdMs,
      expiresMs: createdMs + DEFAULT_RETENTION_MS,
      finalizedMs: createdMs,
      size: 0,
      digest: `sha256:${createHash('sha256').update(Buffer.alloc(0)).digest('hex')}`,
      expiredByHand: false,
      deleted: false
    }
    this.records.push(record)
    this.blobs.set(record.blobKey, { blocks: new Map(), committed: Buffer.alloc(0), contentType: 'application/zip' })
    return record.id
  }

  views(): FakeArtifactView[] {
    return this.records.map((record) => ({
      id: record.id,
      name: record.name,
      runId: record.run.id,
      size: record.size,
      createdAt: timestamp(record.createdMs),
      expiresAt: timestamp(record.expiresMs),
      expired: this.isExpired(record),
      deleted: record.deleted,
      finalized: record.finalizedMs !== null,
      digest: record.digest,
      mimeType: record.mimeType,
      files: async () => {
        const bytes = this.blobs.get(record.blobKey)?.committed ?? Buffer.alloc(0)
        return record.mimeType === 'application/zip' ? readZip(bytes) : { [record.name]: bytes }
      }
    }))
  }

  expire(id: number): void {
    const record = this.records.find((r) => r.id === id)
    if (!record) throw new Error(`No artifact ${id}`)
    record.expiredByHand = true
  }

  // -------------------------------------------------------------------------------------------------------------
  // Twirp

  /**
   * The runtime token is a JWT the client decodes without verifying, and so does the fake: the run and job come
   * from `Actions.Results:<run>:<job>` in its `scp` claim and must belong to a registered run.
   */
  private authenticate(req: IncomingMessage): Identity {
    const token = /^Bearer\s+(\S+)$/i.exec(headerValue(req.headers, 'authorization') ?? '')?.[1]
    if (!token) throw twirpError('unauthenticated', 'missing bearer token')
    let scp: unknown
    try {
      scp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).scp
    } catch {
      throw twirpError('unauthenticated', 'malformed runtime token')
    }
    const scope = typeof scp === 'string' ? scp.split(' ').find((s) => s.startsWith('Actions.Results:')) : undefined
    const [, runBackendId, jobBackendId] = scope?.split(':') ?? []
    if (!runBackendId || !jobBackendId || !this.ctx.runByBackendIds(runBackendId, jobBackendId)) {
      throw twirpError('unauthenticated', 'runtime token does not belong to a known workflow run')
    }
    return { runBackendId, jobBackendId }
  }

  /**
   * Assumption: the service refuses a body naming another run than the token's (the client never does). The job
   * may differ: downloading within a run names the job that uploaded the artifact.
   */
  private checkIdentity(body: Record<string, unknown>, who: Identity): Identity {
    if (body.workflow_run_backend_id !== who.runBackendId || typeof body.workflow_job_run_backend_id !== 'string') {
      throw twirpError('permission_denied', 'workflow run backend id does not match the runtime token')
    }
    return who
  }

  private createArtifact(body: Record<string, unknown>, who: Identity): Reply {
    const name = body.name
    if (typeof name !== 'string' || name === '') throw twirpError('invalid_argument', 'name is required')
    const run = this.ctx.runByBackendIds(who.runBackendId, who.jobBackendId)!
    // Artifact names are unique per run (v4+), whichever job uploaded; a deleted one frees its name.
    if (this.records.some((r) => r.run.backendId === run.backendId && r.name === name && !r.deleted)) {
      throw twirpError('already_exists', 'an artifact with this name already exists on the workflow run')
    }
    const now = this.ctx.now()
    let expiresMs = now + DEFAULT_RETENTION_MS
    if (body.expires_at !== undefined) {
      expiresMs = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : NaN
      if (Number.isNaN(expiresMs)) throw twirpError('invalid_argument', 'expires_at is not a valid timestamp')
    }
    const record: ArtifactRecord = {
      id: this.nextId++,
      name,
      run,
      jobBackendId: who.jobBackendId,
      blobKey: randomUUID(),
      mimeType: typeof body.mime_type === 'string' ? body.mime_type : 'application/zip',
      createdMs: now,
      expiresMs,
      finalizedMs: null,
      size: 0,
      digest: undefined,
      expiredByHand: false,
      deleted: false
    }
    this.records.push(record)
    this.blobs.set(record.blobKey, { blocks: new Map(), committed: null, contentType: undefined })
    return json({ ok: true, signed_upload_url: `${this.ctx.url}/blob/${record.blobKey}?sig=FAKE` })
  }

  /** Checks the declared size and sha256 against the bytes blob storage holds, then makes the artifact visible. */
  private finalizeArtifact(body: Record<string, unknown>, who: Identity): Reply {
    const record = this.records.find((r) => r.run.backendId === who.runBackendId && r.name === body.name && !r.deleted && r.finalizedMs === null)
    if (!record) throw twirpError('not_found', 'artifact not found or already finalized')
    const bytes = this.blobs.get(record.blobKey)?.committed
    if (!bytes) throw twirpError('failed_precondition', 'artifact content has not been uploaded')
    if (String(body.size) !== String(bytes.length)) {
      throw twirpError('invalid_argument', `size mismatch: declared ${String(body.size)}, uploaded ${bytes.length}`)
    }
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    if (body.hash !== undefined && body.hash !== digest) {
      throw twirpError('invalid_argument', `hash mismatch: declared ${String(body.hash)}, uploaded ${digest}`)
    }
    record.finalizedMs = this.ctx.now()
    record.size = bytes.length
    record.digest = digest
    return json({ ok: true, artifact_id: String(record.id) })
  }

  /** The run's artifacts (any job's), finalized and neither expired nor deleted (assumption for the last two). */
  private listTwirp(body: Record<string, unknown>, who: Identity): Reply {
    const artifacts = this.records
      .filter((r) => r.run.backendId === who.runBackendId && this.isLive(r) && !this.isExpired(r))
      .filter((r) => body.name_filter === undefined || r.name === body.name_filter)
      .filter((r) => body.id_filter === undefined || String(r.id) === String(body.id_filter))
      .map((r) => ({
        workflow_run_backend_id: r.run.backendId,
        workflow_job_run_backend_id: r.jobBackendId,
        database_id: String(r.id),
        name: r.name,
        size: String(r.size),
        created_at: protoTimestamp(r.createdMs),
        digest: r.digest
      }))
    return json({ artifacts })
  }

  private signedUrl(body: Record<string, unknown>, who: Identity): Reply {
    const record = this.byRunAndName(who, body.name)
    return json({ signed_url: `${this.ctx.url}/blob-download/${record.blobKey}?sig=FAKE` })
  }

  private deleteTwirp(body: Record<string, unknown>, who: Identity): Reply {
    const record = this.byRunAndName(who, body.name)
    record.deleted = true
    return json({ ok: true, artifact_id: String(record.id) })
  }

  private byRunAndName(who: Identity, name: unknown): ArtifactRecord {
    const record = this.records.find((r) => r.run.backendId === who.runBackendId && r.name === name && this.isLive(r))
    if (!record) throw twirpError('not_found', `artifact ${String(name)} not found`)
    return record
  }

  // -------------------------------------------------------------------------------------------------------------
  // Blob storage (what Azure's BlockBlobClient sends to the signed URL)

  /**
   * `comp=block` stages a block, `comp=blocklist` commits the listed blocks in order (uploadStream always takes
   * this path, even for an empty body), and a plain PUT with `x-ms-blob-type: BlockBlob` is a one-shot upload.
   */
  private async putBlob(call: RouteCall): Promise<Reply> {
    const blob = this.signedBlob(call)
    const query = call.url.searchParams
    const comp = query.get('comp')
    const body = await readBody(call.req, MAX_BLOCK_BYTES)
    if (comp === 'block') {
      const blockId = query.get('blockid')
      if (!blockId) throw blobError(400, 'InvalidQueryParameterValue', 'blockid is required')
      blob.blocks.set(blockId, body)
      return { status: 201, headers: { 'x-ms-request-server-encrypted': 'true' } }
    }
    if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map((m) => unescapeXml(m[2]!))
      const parts = ids.map((id) => blob.blocks.get(id))
      if (parts.some((part) => part === undefined)) {
        throw blobError(400, 'InvalidBlockList', 'The specified block list is invalid.')
      }
      return this.commitBlob(blob, Buffer.concat(parts as Buffer[]), headerValue(call.req.headers, 'x-ms-blob-content-type'))
    }
    if (comp !== null) throw blobError(400, 'InvalidQueryParameterValue', `comp=${comp} is not supported by the fake`)
    if (headerValue(call.req.headers, 'x-ms-blob-type') !== 'BlockBlob') {
      throw blobError(400, 'MissingRequiredHeader', "An HTTP header that's mandatory for this request is not specified.")
    }
    const contentType = headerValue(call.req.headers, 'x-ms-blob-content-type') ?? headerValue(call.req.headers, 'content-type')
    return this.commitBlob(blob, body, contentType)
  }

  private commitBlob(blob: BlobRecord, bytes: Buffer, contentType: string | undefined): Reply {
    blob.committed = bytes
    blob.contentType = contentType
    blob.blocks.clear() // Azure discards uncommitted blocks once a block list is committed
    const etag = `"0x${createHash('md5').update(bytes).digest('hex').slice(0, 15).toUpperCase()}"`
    return {
      status: 201,
      headers: {
        etag,
        'last-modified': new Date(this.ctx.now()).toUTCString(),
        'content-md5': createHash('md5').update(bytes).digest('base64'),
        'x-ms-request-server-encrypted': 'true'
      }
    }
  }

  /** The zip as uploaded; only a finalized, live artifact's blob is readable. */
  private getBlob(call: RouteCall): Reply {
    this.signedBlob(call)
    const record = this.records.find((r) => r.blobKey === call.params[0] && this.isLive(r))
    const bytes = record && this.blobs.get(record.blobKey)?.committed
    if (!record || !bytes) throw blobError(404, 'BlobNotFound', 'The specified blob does not exist.')
    const headers: Record<string, string> = {
      'content-type': record.mimeType,
      'content-length': String(bytes.length),
      etag: `"${record.digest ?? ''}"`
    }
    if (record.mimeType !== 'application/zip') {
      headers['content-disposition'] = `attachment; filename="${record.name}"; filename*=UTF-8''${encodeURIComponent(record.name)}`
    }
    return { status: 200, headers, raw: bytes }
  }

  /** A signed URL is only as good as its `sig`; the key must be one CreateArtifact handed out. */
  private signedBlob(call: RouteCall): BlobRecord {
    if (call.url.searchParams.get('sig') !== 'FAKE') {
      throw blobError(403, 'AuthenticationFailed', 'Server failed to authenticate the request.')
    }
    const blob = this.blobs.get(call.params[0]!)
    if (!blob) throw blobError(404, 'ContainerNotFound', 'The specified container does not exist.')
    return blob
  }

  // -------------------------------------------------------------------------------------------------------------
  // REST

  /** Newest first, `name` an exact filter; expired artifacts stay listed (with `expired: true`) as on GitHub. */
  private listRest(url: URL, keep: (record: ArtifactRecord) => boolean): Reply {
    const name = url.searchParams.get('name')
    const matches = this.records.filter((r) => this.isLive(r) && keep(r) && (name === null || r.name === name)).reverse()
    const page = pageOf(matches, url, this.ctx.url)
    return json({ total_count: matches.length, artifacts: page.items.map((r) => this.render(r)) }, 200, page.headers)
  }

  private listRunRest(call: RouteCall): Reply {
    const run = this.ctx.run(Number(call.params[0]))
    if (!run) throw notFound()
    return this.listRest(call.url, (r) => r.run.id === run.id)
  }

  /** A 302 to a short-lived blob URL (the client asks with `redirect: 'manual'`), or 410 once expired. */
  private download(id: string, format: string): Reply {
    const record = this.visible(id)
    if (format !== 'zip') throw notFound()
    if (this.isExpired(record)) throw new FakeError(410, 'Artifact has expired')
    return { status: 302, headers: { location: `${this.ctx.url}/blob-download/${record.blobKey}?sig=FAKE` } }
  }

  private deleteRest(id: string): Reply {
    this.visible(id).deleted = true
    return { status: 204 }
  }

  private visible(id: string): ArtifactRecord {
    const record = this.records.find((r) => r.id === Number(id) && this.isLive(r))
    if (!record) throw notFound()
    return record
  }

  private render(record: ArtifactRecord): Record<string, unknown> {
    const base = `${this.ctx.url}/repos/${this.ctx.repo.fullName}/actions/artifacts/${record.id}`
    const { run } = record
    return {
      id: record.id,
      node_id: nodeId('Artifact', record.id),
      name: record.name,
      size_in_bytes: record.size,
      url: base,
      archive_download_url: `${base}/zip`,
      expired: this.isExpired(record),
      digest: record.digest,
      created_at: timestamp(record.createdMs),
      updated_at: timestamp(record.finalizedMs ?? record.createdMs),
      expires_at: timestamp(record.expiresMs),
      workflow_run: {
        id: run.id,
        repository_id: this.ctx.repo.id,
        head_repository_id: this.ctx.repoId(run.headRepository),
        head_branch: run.headBranch,
        head_sha: run.headSha
      }
    }
  }

  private isLive(record: ArtifactRecord): boolean {
    return record.finalizedMs !== null && !record.deleted
  }

  private isExpired(record: ArtifactRecord): boolean {
    return record.expiredByHand || this.ctx.now() >= record.expiresMs
  }
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

// ---------------------------------------------------------------------------------------------------------------
// A tiny zip reader, for inspection only

/**
 * Files of a zip, by path. Reads the central directory, because the client's zip is streamed (archiver) and its
 * local headers carry zero sizes with the real ones in data descriptors. Stored and deflated entries only; no
 * zip64 (manifests are small); directory entries are skipped.
 */
export function readZip(zip: Buffer): Record<string, Buffer> {
  const files: Record<string, Buffer> = {}
  if (zip.length === 0) return files
  let end = zip.length - 22
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--
  if (end < 0) throw new Error('Not a zip: no end of central directory record')
  const count = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('Corrupt zip central directory')
    const method = zip.readUInt16LE(offset + 10)
    const compressedSize = zip.readUInt32LE(offset + 20)
    const nameLength = zip.readUInt16LE(offset + 28)
    const extraLength = zip.readUInt16LE(offset + 30)
    const commentLength = zip.readUInt16LE(offset + 32)
    const localOffset = zip.readUInt32LE(offset + 42)
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength)
    offset += 46 + nameLength + extraLength + commentLength
    if (name.endsWith('/')) continue
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28)
    const data = zip.subarray(dataStart, dataStart + compressedSize)
    if (method === 0) files[name] = Buffer.from(data)
    else if (method === 8) files[name] = inflateRawSync(data)
    else throw new Error(`Unsupported zip compression method ${method} for ${name}`)
  }
  return files
}
