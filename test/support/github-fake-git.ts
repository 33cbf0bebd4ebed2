/**
 * The fake repository's Git objects and refs, and the REST Git Data API over them (refs, commits, trees, blobs),
 * which is how the action commits without a checkout. Objects are hashed as git hashes them (sha1 of
 * "<type> <size>\0<body>"), so equal content always gets the same sha and blob shas match `git hash-object`.
 */
import { createHash } from 'node:crypto'
import { json, notFound, readJsonObject, timestamp, unprocessable, type FakeContext, type Reply, type Route, repoRoute, type RouteCall } from './github-fake-http.js'

export type EntryType = 'blob' | 'tree' | 'commit'

export interface TreeEntry {
  name: string
  /** As the API shows it: 100644, 100755, 120000, 160000 or 040000. */
  mode: string
  type: EntryType
  sha: string
}

export interface GitPerson {
  name: string
  email: string
  /** ISO 8601, second precision. */
  date: string
}

export interface CommitObject {
  sha: string
  tree: string
  parents: string[]
  message: string
  author: GitPerson
  committer: GitPerson
  /** GitHub signs commits it creates itself through the API ("verified" in the UI). */
  verified: boolean
}

/** A change to a tree: `entry: null` removes the path. */
export interface TreeEdit {
  segments: string[]
  entry: Omit<TreeEntry, 'name'> | null
}

type GitObject = { type: 'blob'; content: Buffer } | { type: 'tree'; entries: TreeEntry[] } | ({ type: 'commit' } & CommitObject)

const MODE_TYPES: Record<string, EntryType> = {
  '100644': 'blob',
  '100755': 'blob',
  '120000': 'blob',
  '040000': 'tree',
  '160000': 'commit'
}

/** The identity GitHub records for API commits made with an Actions token. */
export const ACTIONS_BOT: Omit<GitPerson, 'date'> = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
}
/** The committer of commits GitHub signs itself ("web-flow"). */
const WEB_FLOW: Omit<GitPerson, 'date'> = { name: 'GitHub', email: 'noreply@github.com' }

export class GitStore {
  private readonly objects = new Map<string, GitObject>()
  /** Full ref name (`refs/heads/main`) → commit sha. */
  private readonly refs = new Map<string, string>()

  writeBlob(content: Buffer): string {
    return this.put({ type: 'blob', content }, content)
  }

  writeTree(entries: readonly TreeEntry[]): string {
    const sorted = [...entries].sort(compareEntries)
    const body = Buffer.concat(sorted.map((e) => Buffer.concat([Buffer.from(`${e.mode.replace(/^0+/, '')} ${e.name}\0`), Buffer.from(e.sha, 'hex')])))
    return this.put({ type: 'tree', entries: sorted }, body)
  }

  writeCommit(fields: Omit<CommitObject, 'sha'>): CommitObject {
    const person = (p: GitPerson): string => `${p.name} <${p.email}> ${Math.floor(Date.parse(p.date) / 1000)} +0000`
    const body = [
      `tree ${fields.tree}`,
      ...fields.parents.map((parent) => `parent ${parent}`),
      `author ${person(fields.author)}`,
      `committer ${person(fields.committer)}`,
      '',
      fields.message
    ].join('\n')
    const sha = gitHash('commit', Buffer.from(body))
    const commit: CommitObject = { ...fields, sha }
    this.objects.set(sha, { type: 'commit', ...commit })
    return commit
  }

  blob(sha: string): Buffer | undefined {
    const object = this.objects.get(sha)
    return object?.type === 'blob' ? object.content : undefined
  }

  tree(sha: string): TreeEntry[] | undefined {
    const object = this.objects.get(sha)
    return object?.type === 'tree' ? object.entries : undefined
  }

  commit(sha: string): CommitObject | undefined {
    const object = this.objects.get(sha)
    if (object?.type !== 'commit') return undefined
    const { type: _type, ...commit } = object
    return commit
  }

  ref(fullName: string): string | undefined {
    return this.refs.get(fullName)
  }

  setRef(fullName: string, sha: string): void {
    this.refs.set(fullName, sha)
  }

  deleteRef(fullName: string): boolean {
    return this.refs.delete(fullName)
  }

  /** How many objects of a type are stored (a call whose answer was lost may still have written one). */
  count(type: GitObject['type']): number {
    let n = 0
    for (const object of this.objects.values()) if (object.type === type) n++
    return n
  }

  refNames(): string[] {
    return [...this.refs.keys()].sort()
  }

  /** A commit sha from a branch name, a full or `heads/…` ref, or a commit sha. */
  resolveCommit(ref: string): string | undefined {
    if (/^[0-9a-f]{40}$/.test(ref) && this.commit(ref)) return ref
    for (const name of [ref, `refs/${ref}`, `refs/heads/${ref}`, `refs/tags/${ref}`]) {
      const sha = this.refs.get(name)
      if (sha) return sha
    }
    return undefined
  }

  /** The blob at `path` in the tree of the commit `ref` names. */
  fileAt(ref: string, path: string): Buffer | undefined {
    const commitSha = this.resolveCommit(ref)
    let treeSha = commitSha === undefined ? undefined : this.commit(commitSha)?.tree
    const segments = path.split('/').filter((s) => s !== '')
    for (const [index, segment] of segments.entries()) {
      const entry = treeSha === undefined ? undefined : this.tree(treeSha)?.find((e) => e.name === segment)
      if (!entry) return undefined
      if (index === segments.length - 1) return entry.type === 'blob' ? this.blob(entry.sha) : undefined
      treeSha = entry.type === 'tree' ? entry.sha : undefined
    }
    return undefined
  }

  /**
   * Applies edits on top of `baseTree` (or an empty tree) and returns the new root tree. Nested paths create or
   * rewrite subtrees; a subtree left empty by deletions disappears, since git has no empty directories.
   */
  editTree(baseTree: string | null, edits: readonly TreeEdit[]): string {
    const entries = new Map((baseTree === null ? [] : (this.tree(baseTree) ?? [])).map((e) => [e.name, e]))
    const below = new Map<string, TreeEdit[]>()
    for (const edit of edits) {
      const [head, ...rest] = edit.segments
      if (head === undefined) continue
      if (rest.length > 0) {
        below.set(head, [...(below.get(head) ?? []), { segments: rest, entry: edit.entry }])
      } else if (edit.entry) {
        entries.set(head, { name: head, ...edit.entry })
      } else {
        entries.delete(head)
      }
    }
    for (const [name, subEdits] of below) {
      const existing = entries.get(name)
      const subtree = this.editTree(existing?.type === 'tree' ? existing.sha : null, subEdits)
      if ((this.tree(subtree) ?? []).length === 0) entries.delete(name)
      else entries.set(name, { name, mode: '040000', type: 'tree', sha: subtree })
    }
    return this.writeTree([...entries.values()])
  }

  /** Every entry under a tree, with its path; subtrees are entered only when `recursive`. */
  walkTree(sha: string, recursive: boolean, prefix = ''): Array<TreeEntry & { path: string }> {
    const out: Array<TreeEntry & { path: string }> = []
    for (const entry of this.tree(sha) ?? []) {
      const path = prefix + entry.name
      out.push({ ...entry, path })
      if (recursive && entry.type === 'tree') out.push(...this.walkTree(entry.sha, true, `${path}/`))
    }
    return out
  }

  /** True when `ancestor` is `descendant` or reachable from it through parents (a fast-forward). */
  isAncestor(ancestor: string, descendant: string): boolean {
    const seen = new Set<string>()
    const queue = [descendant]
    while (queue.length > 0) {
      const sha = queue.shift()!
      if (sha === ancestor) return true
      if (seen.has(sha)) continue
      seen.add(sha)
      queue.push(...(this.commit(sha)?.parents ?? []))
    }
    return false
  }

  private put(object: GitObject, body: Buffer): string {
    const sha = gitHash(object.type, body)
    this.objects.set(sha, object)
    return sha
  }
}

function gitHash(type: string, body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex')
}

/** Git's tree order: byte order of names, where a subtree sorts as if its name ended in "/". */
function compareEntries(a: TreeEntry, b: TreeEntry): number {
  const key = (e: TreeEntry): Buffer => Buffer.from(e.type === 'tree' ? `${e.name}/` : e.name)
  return Buffer.compare(key(a), key(b))
}

// ---------------------------------------------------------------------------------------------------------------
// REST: /repos/{owner}/{repo}/git/…

export function gitRoutes(ctx: FakeContext, git: GitStore): Route[] {
  const api = new GitApi(ctx, git)
  return [
    repoRoute('GET', /^\/git\/ref\/(.+)$/, (c) => api.getRef(c.params[0]!)),
    repoRoute('GET', /^\/git\/matching-refs\/(.*)$/, (c) => api.matchingRefs(c.params[0]!)),
    repoRoute('POST', /^\/git\/refs$/, (c) => api.createRef(c)),
    repoRoute('PATCH', /^\/git\/refs\/(.+)$/, (c) => api.updateRef(c)),
    repoRoute('DELETE', /^\/git\/refs\/(.+)$/, (c) => api.deleteRef(c.params[0]!)),
    repoRoute('GET', /^\/git\/commits\/([^/]+)$/, (c) => api.getCommit(c.params[0]!)),
    repoRoute('POST', /^\/git\/commits$/, (c) => api.createCommit(c)),
    repoRoute('GET', /^\/git\/blobs\/([^/]+)$/, (c) => api.getBlob(c.params[0]!)),
    repoRoute('POST', /^\/git\/blobs$/, (c) => api.createBlob(c)),
    repoRoute('GET', /^\/git\/trees\/(.+)$/, (c) => api.getTree(c)),
    repoRoute('POST', /^\/git\/trees$/, (c) => api.createTree(c))
  ]
}

class GitApi {
  constructor(
    private readonly ctx: FakeContext,
    private readonly git: GitStore
  ) {}

  private get base(): string {
    return `${this.ctx.url}/repos/${this.ctx.repo.fullName}`
  }

  getRef(ref: string): Reply {
    const sha = this.git.ref(`refs/${ref}`)
    if (sha === undefined) throw notFound()
    return json(this.renderRef(`refs/${ref}`, sha))
  }

  matchingRefs(prefix: string): Reply {
    const names = this.git.refNames().filter((name) => name.startsWith(`refs/${prefix}`))
    return json(names.map((name) => this.renderRef(name, this.git.ref(name)!)))
  }

  async createRef(call: RouteCall): Promise<Reply> {
    const body = await readJsonObject(call.req)
    const ref = requireString(body, 'ref')
    const sha = requireString(body, 'sha')
    // Assumption: wording of GitHub's answer for a ref like "heads/x" or "refs/x" (it wants refs/<kind>/<name>).
    if (!/^refs\/[^/]+\/.+/.test(ref)) throw unprocessable("Reference name must start with 'refs/' and have at least two slashes.")
    if (!this.git.commit(sha)) throw unprocessable('Object does not exist')
    if (this.git.ref(ref) !== undefined) throw unprocessable('Reference already exists')
    this.git.setRef(ref, sha)
    return json(this.renderRef(ref, sha), 201)
  }

  async updateRef(call: RouteCall): Promise<Reply> {
    const ref = `refs/${call.params[0]!}`
    const body = await readJsonObject(call.req)
    const sha = requireString(body, 'sha')
    const current = this.git.ref(ref)
    if (current === undefined) throw unprocessable('Reference does not exist')
    if (!this.git.commit(sha)) throw unprocessable('Object does not exist')
    if (body.force !== true && !this.git.isAncestor(current, sha)) throw unprocessable('Update is not a fast forward')
    this.git.setRef(ref, sha)
    return json(this.renderRef(ref, sha))
  }

  deleteRef(ref: string): Reply {
    if (!this.git.deleteRef(`refs/${ref}`)) throw unprocessable('Reference does not exist')
    return { status: 204 }
  }

  getCommit(sha: string): Reply {
    const commit = this.git.commit(sha)
    if (!commit) throw notFound()
    return json(this.renderCommit(commit))
  }

  async createCommit(call: RouteCall): Promise<Reply> {
    const body = await readJsonObject(call.req)
    const message = requireString(body, 'message')
    const tree = requireString(body, 'tree')
    const parents = body.parents ?? []
    if (!isStringArray(parents)) throw unprocessable("Invalid request.\n\nFor 'properties/parents', the items must be strings.")
    if (!this.git.tree(tree)) throw unprocessable('Tree SHA does not exist')
    if (parents.some((parent) => !this.git.commit(parent))) {
      throw unprocessable('Parent SHA does not exist or is not a commit object')
    }
    const now = timestamp(this.ctx.now())
    const author = person(body.author, { ...ACTIONS_BOT, date: now })
    // Assumption: GitHub signs (verifies) an API commit unless the caller sets its own committer or signature;
    // the committer of a signed commit is GitHub's web-flow identity.
    const ownCommitter = body.committer !== undefined || body.signature !== undefined
    const committer = person(body.committer, { ...WEB_FLOW, date: now })
    const commit = this.git.writeCommit({ tree, parents, message, author, committer, verified: !ownCommitter })
    return json(this.renderCommit(commit), 201)
  }

  getBlob(sha: string): Reply {
    const content = this.git.blob(sha)
    if (!content) throw notFound()
    return json({
      sha,
      node_id: nodeId('Blob', sha),
      size: content.length,
      url: `${this.base}/git/blobs/${sha}`,
      // GitHub wraps the base64 at 60 characters; Buffer.from(…, 'base64') skips the newlines.
      content: (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
      encoding: 'base64'
    })
  }

  async createBlob(call: RouteCall): Promise<Reply> {
    const body = await readJsonObject(call.req)
    const encoding = body.encoding ?? 'utf-8'
    const text = requireString(body, 'content')
    if (encoding !== 'utf-8' && encoding !== 'utf8' && encoding !== 'base64') {
      throw unprocessable(`encoding must be either utf-8 or base64`)
    }
    const content = Buffer.from(text, encoding === 'base64' ? 'base64' : 'utf8')
    const sha = this.git.writeBlob(content)
    return json({ url: `${this.base}/git/blobs/${sha}`, sha }, 201)
  }

  /** `tree_sha` may also be a branch or a commit, as on GitHub; any `recursive` value lists the whole tree. */
  getTree(call: RouteCall): Reply {
    const given = call.params[0]!
    const commitSha = this.git.tree(given) ? undefined : this.git.resolveCommit(given)
    const sha = commitSha === undefined ? given : this.git.commit(commitSha)!.tree
    if (!this.git.tree(sha)) throw notFound()
    return json(this.renderTree(sha, call.url.searchParams.has('recursive')))
  }

  async createTree(call: RouteCall): Promise<Reply> {
    const body = await readJsonObject(call.req)
    const baseTree = body.base_tree
    if (baseTree !== undefined && baseTree !== null && (typeof baseTree !== 'string' || !this.git.tree(baseTree))) {
      // Assumption: wording; GitHub answers 422 for a base_tree that is not a tree.
      throw unprocessable('base_tree is not a valid tree oid')
    }
    if (!Array.isArray(body.tree)) throw unprocessable('Invalid tree info')
    const edits = body.tree.map((item: unknown) => this.parseTreeItem(item))
    const sha = this.git.editTree(typeof baseTree === 'string' ? baseTree : null, edits)
    return json(this.renderTree(sha, false), 201)
  }

  private parseTreeItem(item: unknown): TreeEdit {
    if (typeof item !== 'object' || item === null) throw unprocessable('Invalid tree info')
    const { path, mode, type, sha, content } = item as Record<string, unknown>
    if (typeof path !== 'string') throw unprocessable('Invalid tree info')
    const segments = path.split('/')
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s === '.git')) {
      throw unprocessable('tree.path contains a malformed path component')
    }
    const entryType = typeof mode === 'string' ? MODE_TYPES[mode] : undefined
    if (!entryType || (type !== undefined && type !== entryType)) throw unprocessable('Invalid tree info')
    if (content !== undefined && sha !== undefined) {
      throw unprocessable('Must supply either tree.sha or tree.content. Request will fail if both are supplied.')
    }
    if (typeof content === 'string') {
      if (entryType !== 'blob') throw unprocessable('Invalid tree info')
      return { segments, entry: { mode: mode as string, type: 'blob', sha: this.git.writeBlob(Buffer.from(content)) } }
    }
    if (sha === null) return { segments, entry: null }
    if (typeof sha !== 'string') throw unprocessable('Must supply either tree.sha or tree.content.')
    const exists = entryType === 'blob' ? this.git.blob(sha) : entryType === 'tree' ? this.git.tree(sha) : true
    // Assumption: wording; GitHub refuses an entry whose sha is not an object of that type.
    if (!exists) throw unprocessable(`tree.sha ${sha} is not a valid ${entryType}`)
    return { segments, entry: { mode: mode as string, type: entryType, sha } }
  }

  renderRef(ref: string, sha: string): Record<string, unknown> {
    return {
      ref,
      node_id: nodeId('Ref', ref),
      url: `${this.base}/git/${ref}`,
      object: { sha, type: 'commit', url: `${this.base}/git/commits/${sha}` }
    }
  }

  renderCommit(commit: CommitObject): Record<string, unknown> {
    const html = `https://github.com/${this.ctx.repo.fullName}/commit`
    return {
      sha: commit.sha,
      node_id: nodeId('Commit', commit.sha),
      url: `${this.base}/git/commits/${commit.sha}`,
      html_url: `${html}/${commit.sha}`,
      author: commit.author,
      committer: commit.committer,
      tree: { sha: commit.tree, url: `${this.base}/git/trees/${commit.tree}` },
      message: commit.message,
      parents: commit.parents.map((sha) => ({ sha, url: `${this.base}/git/commits/${sha}`, html_url: `${html}/${sha}` })),
      verification: commit.verified
        ? {
            verified: true,
            reason: 'valid',
            signature: '-----BEGIN PGP SIGNATURE-----\n\nfake\n-----END PGP SIGNATURE-----\n',
            payload: `tree ${commit.tree}\n`,
            verified_at: commit.committer.date
          }
        : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null }
    }
  }

  private renderTree(sha: string, recursive: boolean): Record<string, unknown> {
    return {
      sha,
      url: `${this.base}/git/trees/${sha}`,
      tree: this.git.walkTree(sha, recursive).map((entry) => ({
        path: entry.path,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(entry.type === 'blob' ? { size: this.git.blob(entry.sha)?.length ?? 0 } : {}),
        url: `${this.base}/git/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`
      })),
      truncated: false
    }
  }
}

/**
 * A required string field. GitHub's wording for a missing one is `Invalid request.\n\n"sha" wasn't supplied.`
 * (assumption: the same text for a field of the wrong type).
 */
function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string') throw unprocessable(`Invalid request.\n\n"${field}" wasn't supplied.`)
  return value
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** `{name, email, date?}` from a request, or the fallback; GitHub fills a missing date with now. */
function person(value: unknown, fallback: GitPerson): GitPerson {
  if (value === undefined) return fallback
  const { name, email, date } = (value ?? {}) as Record<string, unknown>
  if (typeof name !== 'string' || typeof email !== 'string') throw unprocessable('Invalid request.\n\n"name", "email" weren\'t supplied.')
  if (date !== undefined && (typeof date !== 'string' || Number.isNaN(Date.parse(date)))) {
    throw unprocessable('Invalid request.\n\n"date" is not a timestamp.')
  }
  return { name, email, date: typeof date === 'string' ? timestamp(Date.parse(date)) : fallback.date }
}

/** GitHub's legacy global node ids are base64 of "<len>:<Type><id>"; only their look matters here. */
export function nodeId(type: string, id: string | number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64')
}
