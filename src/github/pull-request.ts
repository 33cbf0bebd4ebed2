import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { branchName, checkBranchAllowed, checkBranchOwned, withTrailer } from './branch.js'
import { reliable, type Octokit } from './octokit.js'
import { DEFAULT_LIMITS, type CallLimits } from './retry.js'

export interface PullRequestOptions {
  owner: string
  repo: string
  workspace: string
  /** Workspace-relative paths of the files to commit, as they are on disk. */
  files: string[]
  /** Workspace-relative paths to remove from the branch (prune). */
  deleted?: string[]
  /** Default: the repository's default branch. */
  base?: string
  branch: string
  title: string
  body: string
  labels: string[]
  draft: boolean
  /** The commit message; the action's trailer is added to it. */
  message: string
  /** Deadlines and retries of each call (default DEFAULT_LIMITS). */
  limits?: CallLimits
}

/*
 * Tree calls. Files go into the entries inline (`content`: no blob call per file), and as many
 * entries go into one call as its body allows. GitHub documents no figure for that body; it
 * answers 502, or 422 "Sorry, your request timed out. It's likely that your input was too large to
 * process. Consider building the tree incrementally", well below its general request limit (reports
 * of failures from about 2.5 MB of inline content on github.com). So a call carries at most
 * TREE_CALL_BYTES of JSON; a file bigger than that alone is written as a blob first and entered by
 * its sha. A call GitHub still finds too large is split in two and tried again (TreeTooLarge).
 */
// Waits of 1, 4, 9 and 16 s (plugin-retry's, at the default minDelayMs): the 422 passes in seconds.
const LABEL_RETRIES = 4

export const TREE_CALL_BYTES = 2 * 1024 * 1024
// No more entries than this in a call, whatever their size (a delete is a few dozen bytes).
export const TREE_CALL_ENTRIES = 10_000

/**
 * Checks, before anything is written, that the action may write `branch`: not the base, not the
 * default branch (BranchRefusedError). Returns the base branch and its head. Call it early: collect
 * should know before it writes a single file that its pull request cannot be made.
 */
export async function preparePullRequest(
  octokit: Octokit,
  o: { owner: string; repo: string; base?: string; branch: string; limits?: CallLimits }
): Promise<{ base: string; baseSha: string }> {
  const { owner, repo } = o
  reliable(octokit, o.limits ?? DEFAULT_LIMITS)
  const defaultBranch = (await octokit.rest.repos.get({ owner, repo })).data.default_branch
  const base = branchName(o.base || defaultBranch)
  checkBranchAllowed(o.branch, base, defaultBranch)
  const baseSha = (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` })).data.object.sha
  return { base, baseSha }
}

/**
 * Commits the files on `branch` through the Git Data API (no checkout, and GitHub signs the commit)
 * and opens a pull request into `base`, or updates the branch and the open pull request of an
 * earlier run instead of opening another. The branch is always one commit on top of the current
 * base, so it never drifts; it is not moved when its content is unchanged. An existing branch is
 * only rebuilt when it holds nothing but the action's own commits (BranchRefusedError otherwise).
 * Every call has a deadline and is retried on transient failures; a creation whose answer was lost
 * is found, not made twice.
 */
export async function openPullRequest(octokit: Octokit, o: PullRequestOptions): Promise<{ url: string; number: number; operation: 'created' | 'updated' | 'unchanged' }> {
  const { owner, repo } = o
  reliable(octokit, o.limits ?? DEFAULT_LIMITS)
  const branch = branchName(o.branch)
  const { base, baseSha } = await preparePullRequest(octokit, { ...o, branch })
  const existing = await branchHead(octokit, owner, repo, branch)
  // Before the first write: a branch holding someone's work is refused untouched.
  if (existing) await checkBranchOwned(octokit, owner, repo, branch, existing, baseSha)

  const baseTree = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: baseSha })).data.tree.sha
  const deleted = (o.deleted ?? []).filter((file) => !o.files.includes(file))
  const tree = await writeTree(octokit, owner, repo, baseTree, o.workspace, o.files, deleted)

  let changed = true
  if (existing) {
    const head = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: existing })).data
    changed = head.tree.sha !== tree || head.parents[0]?.sha !== baseSha
  }
  if (changed) {
    const commit = (await octokit.rest.git.createCommit({ owner, repo, message: withTrailer(o.message), tree, parents: [baseSha] })).data.sha
    if (existing) await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit, force: true })
    else await createBranch(octokit, owner, repo, branch, commit)
  }

  const found = await openPullFor(octokit, owner, repo, branch, base)
  if (found) {
    await octokit.rest.pulls.update({ owner, repo, pull_number: found.number, title: o.title, body: o.body })
    if (o.labels.length) await octokit.rest.issues.addLabels({ owner, repo, issue_number: found.number, labels: o.labels })
    return { url: found.html_url, number: found.number, operation: changed ? 'updated' : 'unchanged' }
  }
  let created: { number: number; html_url: string }
  try {
    created = (await octokit.rest.pulls.create({ owner, repo, title: o.title, body: o.body, head: branch, base, draft: o.draft })).data
  } catch (error) {
    // A retry after a lost answer: GitHub made the pull request the first time and refuses a second.
    const made = (error as { status?: number }).status === 422 ? await openPullFor(octokit, owner, repo, branch, base) : undefined
    if (!made) throw error
    created = made
  }
  // Right after opening, GitHub may answer 422 ("Could not resolve to a node") until the new pull
  // request is visible everywhere: plugin-retry tries again on it (see octokit.ts).
  if (o.labels.length) await octokit.rest.issues.addLabels({ owner, repo, issue_number: created.number, labels: o.labels, request: { retries: LABEL_RETRIES } })
  return { url: created.html_url, number: created.number, operation: 'created' }
}

type TreeEntry = { path: string; mode: '100644'; type: 'blob'; content?: string; sha?: string | null }

/** Writes the files (and removes `deleted`) on top of `baseTree` in as few tree calls as the limits above allow. */
async function writeTree(octokit: Octokit, owner: string, repo: string, baseTree: string, workspace: string, files: string[], deleted: string[]): Promise<string> {
  const calls: TreeEntry[][] = [[]]
  let bytes = 0
  const add = (entry: TreeEntry): void => {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1
    if (calls.at(-1)!.length && (bytes + size > TREE_CALL_BYTES || calls.at(-1)!.length >= TREE_CALL_ENTRIES)) {
      calls.push([])
      bytes = 0
    }
    calls.at(-1)!.push(entry)
    bytes += size
  }
  for (const file of files) {
    const content = await readFile(path.join(workspace, file), 'utf8')
    const entry: TreeEntry = { path: file, mode: '100644', type: 'blob', content }
    if (Buffer.byteLength(JSON.stringify(entry)) < TREE_CALL_BYTES) add(entry)
    else add({ path: file, mode: '100644', type: 'blob', sha: (await octokit.rest.git.createBlob({ owner, repo, content, encoding: 'utf-8' })).data.sha })
  }
  for (const file of deleted) add({ path: file, mode: '100644', type: 'blob', sha: null })
  let tree = baseTree
  for (const entries of calls) if (entries.length) tree = await createTree(octokit, owner, repo, tree, entries)
  return tree
}

/** One tree call; when GitHub finds it too large to process, two calls with half the entries each. */
async function createTree(octokit: Octokit, owner: string, repo: string, base: string, entries: TreeEntry[]): Promise<string> {
  try {
    return (await octokit.rest.git.createTree({ owner, repo, base_tree: base, tree: entries })).data.sha
  } catch (error) {
    if (entries.length < 2 || !treeTooLarge(error)) throw error
    const half = Math.ceil(entries.length / 2)
    return createTree(octokit, owner, repo, await createTree(octokit, owner, repo, base, entries.slice(0, half)), entries.slice(half))
  }
}

function treeTooLarge(error: unknown): boolean {
  const e = error as { status?: number; message?: string }
  return e.status === 413 || (e.status === 422 && /too large|timed out/i.test(String(e.message)))
}

async function openPullFor(octokit: Octokit, owner: string, repo: string, branch: string, base: string): Promise<{ number: number; html_url: string } | undefined> {
  // `head` must be owner:branch: GitHub ignores a bare branch name and lists every pull request.
  const open = await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${branch}`, base })
  return open.data[0]
}

/** Creates the branch at `sha`; a retry whose first attempt did it finds the branch already there. */
async function createBranch(octokit: Octokit, owner: string, repo: string, branch: string, sha: string): Promise<void> {
  try {
    await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha })
  } catch (error) {
    if ((error as { status?: number }).status !== 422 || (await branchHead(octokit, owner, repo, branch)) !== sha) throw error
  }
}

async function branchHead(octokit: Octokit, owner: string, repo: string, branch: string): Promise<string | undefined> {
  try {
    return (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined
    throw error
  }
}
