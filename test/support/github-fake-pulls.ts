/**
 * Pull requests and their labels, over the fake's Git store: enough of the REST API for the
 * create-or-update-a-pull-request flow (create → "already exists" → list by head → update, labels).
 */
import { nodeId, type GitStore } from './github-fake-git.js'
import {
  json,
  notFound,
  pageOf,
  readJsonObject,
  timestamp,
  unprocessable,
  validationFailed,
  type FakeContext,
  type Reply,
  type Route,
  repoRoute,
  type RouteCall
} from './github-fake-http.js'

export interface PullView {
  number: number
  title: string
  body: string
  /** Branch name, in this repository. */
  head: string
  base: string
  state: 'open' | 'closed'
  draft: boolean
  labels: string[]
  html_url: string
}

interface PullRecord extends Omit<PullView, 'html_url'> {
  /** Head sha when the branch is gone (GitHub keeps showing the last one). */
  lastHeadSha: string
  createdMs: number
  updatedMs: number
  closedMs: number | null
}

export class FakePulls {
  private readonly pulls: PullRecord[] = []

  constructor(
    private readonly ctx: FakeContext,
    private readonly git: GitStore
  ) {}

  routes(): Route[] {
    return [
      repoRoute('GET', /^\/pulls$/, (c) => this.list(c.url)),
      repoRoute('POST', /^\/pulls$/, (c) => this.create(c)),
      repoRoute('GET', /^\/pulls\/(\d+)$/, (c) => json(this.render(this.find(c.params[0]!)))),
      repoRoute('PATCH', /^\/pulls\/(\d+)$/, (c) => this.update(c)),
      repoRoute('POST', /^\/issues\/(\d+)\/labels$/, (c) => this.addLabels(c)),
      repoRoute('GET', /^\/issues\/(\d+)\/labels$/, (c) => json(this.find(c.params[0]!).labels.map((l) => this.label(l))))
    ]
  }

  views(): PullView[] {
    return this.pulls.map((pull) => ({ ...pull, labels: [...pull.labels], html_url: this.htmlUrl(pull) }))
  }

  /**
   * `head` must be `owner:branch`: GitHub silently ignores a bare branch name and lists every pull request, a
   * classic bug this reproduces on purpose.
   */
  private list(url: URL): Reply {
    const query = url.searchParams
    const state = query.get('state') ?? 'open'
    const head = query.get('head')
    const base = query.get('base')
    const headMatch = head?.includes(':') ? head.split(':', 2) : undefined
    const matches = this.pulls
      .filter((pull) => state === 'all' || pull.state === state)
      .filter((pull) => !headMatch || (headMatch[0] === this.ctx.repo.owner && headMatch[1] === pull.head))
      .filter((pull) => !base || pull.base === base)
      .reverse() // newest first: GitHub's default sort is created, desc
    const page = pageOf(matches, url, this.ctx.url)
    return json(
      page.items.map((pull) => this.render(pull)),
      200,
      page.headers
    )
  }

  private async create(call: RouteCall): Promise<Reply> {
    const body = await readJsonObject(call.req)
    const { title, head, base } = body
    if (typeof head !== 'string') throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'missing_field' })
    if (typeof base !== 'string') throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'missing_field' })
    if (typeof title !== 'string') throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
    const headBranch = this.headBranch(head)
    const headSha = headBranch === undefined ? undefined : this.git.ref(`refs/heads/${headBranch}`)
    if (headBranch === undefined || headSha === undefined) {
      throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'invalid' })
    }
    const baseSha = this.git.ref(`refs/heads/${base}`)
    if (baseSha === undefined) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' })
    if (this.pulls.some((pull) => pull.state === 'open' && pull.head === headBranch && pull.base === base)) {
      const message = `A pull request already exists for ${this.ctx.repo.owner}:${headBranch}.`
      throw validationFailed({ resource: 'PullRequest', code: 'custom', message })
    }
    if (this.git.isAncestor(headSha, baseSha)) {
      throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${headBranch}` })
    }
    const now = this.ctx.now()
    const pull: PullRecord = {
      number: this.pulls.length + 1,
      title,
      body: typeof body.body === 'string' ? body.body : '',
      head: headBranch,
      base,
      state: 'open',
      draft: body.draft === true,
      labels: [],
      lastHeadSha: headSha,
      createdMs: now,
      updatedMs: now,
      closedMs: null
    }
    this.pulls.push(pull)
    return json(this.render(pull), 201)
  }

  private async update(call: RouteCall): Promise<Reply> {
    const pull = this.find(call.params[0]!)
    const body = await readJsonObject(call.req)
    if (typeof body.title === 'string') pull.title = body.title
    if (typeof body.body === 'string') pull.body = body.body
    if (typeof body.base === 'string') {
      if (this.git.ref(`refs/heads/${body.base}`) === undefined) {
        throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' })
      }
      pull.base = body.base
    }
    if (body.state === 'open' || body.state === 'closed') {
      if (body.state === 'open' && pull.state === 'closed' && this.git.ref(`refs/heads/${pull.head}`) === undefined) {
        // Assumption: wording; a pull request whose head branch is gone cannot be reopened.
        throw unprocessable('state cannot be changed. The head branch has been deleted.')
      }
      pull.closedMs = body.state === 'closed' ? this.ctx.now() : null
      pull.state = body.state
    } else if (body.state !== undefined) {
      throw validationFailed({ resource: 'PullRequest', field: 'state', code: 'invalid' })
    }
    pull.updatedMs = this.ctx.now()
    return json(this.render(pull))
  }

  /** Adds to the labels already there and answers with all of them (labels are created on first use). */
  private async addLabels(call: RouteCall): Promise<Reply> {
    const pull = this.find(call.params[0]!)
    const body = await readJsonObject(call.req)
    const labels = body.labels
    if (!Array.isArray(labels) || labels.some((label) => typeof label !== 'string')) {
      throw validationFailed({ resource: 'Label', field: 'labels', code: 'invalid' })
    }
    for (const label of labels as string[]) if (!pull.labels.includes(label)) pull.labels.push(label)
    pull.updatedMs = this.ctx.now()
    return json(pull.labels.map((label) => this.label(label)))
  }

  /** `branch` or `owner:branch`; a head in another owner's fork is not modelled (→ invalid). */
  private headBranch(head: string): string | undefined {
    const colon = head.indexOf(':')
    if (colon < 0) return head
    return head.slice(0, colon) === this.ctx.repo.owner ? head.slice(colon + 1) : undefined
  }

  private find(number: string): PullRecord {
    const pull = this.pulls[Number(number) - 1]
    if (!pull) throw notFound()
    return pull
  }

  private htmlUrl(pull: PullRecord): string {
    return `https://github.com/${this.ctx.repo.fullName}/pull/${pull.number}`
  }

  private render(pull: PullRecord): Record<string, unknown> {
    const { owner, fullName } = this.ctx.repo
    const apiUrl = `${this.ctx.url}/repos/${fullName}/pulls/${pull.number}`
    const headSha = this.git.ref(`refs/heads/${pull.head}`) ?? pull.lastHeadSha
    pull.lastHeadSha = headSha
    const repo = this.ctx.repoSummary(fullName)
    return {
      url: apiUrl,
      id: 100_000 + pull.number,
      node_id: nodeId('PullRequest', 100_000 + pull.number),
      html_url: this.htmlUrl(pull),
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      body: pull.body,
      labels: pull.labels.map((label) => this.label(label)),
      created_at: timestamp(pull.createdMs),
      updated_at: timestamp(pull.updatedMs),
      closed_at: pull.closedMs === null ? null : timestamp(pull.closedMs),
      merged_at: null,
      draft: pull.draft,
      head: { label: `${owner}:${pull.head}`, ref: pull.head, sha: headSha, repo },
      base: { label: `${owner}:${pull.base}`, ref: pull.base, sha: this.git.ref(`refs/heads/${pull.base}`) ?? null, repo },
      merged: false,
      mergeable: null
    }
  }

  private label(name: string): Record<string, unknown> {
    const id = [...name].reduce((hash, ch) => (hash * 31 + ch.charCodeAt(0)) >>> 0, 7)
    return {
      id,
      node_id: nodeId('Label', id),
      url: `${this.ctx.url}/repos/${this.ctx.repo.fullName}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null
    }
  }
}
