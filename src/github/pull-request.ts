import path from 'node:path'
import { readFile } from 'node:fs/promises'
import type { getOctokit } from '@actions/github'

type Octokit = ReturnType<typeof getOctokit>

export interface PullRequestOptions {
  owner: string
  repo: string
  workspace: string
  /** Workspace-relative paths of the files to commit, as they are on disk. */
  files: string[]
  /** Default: the repository's default branch. */
  base?: string
  branch: string
  title: string
  body: string
  labels: string[]
  draft: boolean
  message: string
}

// Files go into tree entries inline (no blob call per file); a tree call carries at most this many.
const ENTRIES_PER_TREE_CALL = 500

/**
 * Commits the files on `branch` through the Git Data API (no checkout, and GitHub signs the commit)
 * and opens a pull request into `base`, or updates the branch and the open pull request of an
 * earlier run for the same batch instead of opening another. The branch is always one commit on
 * top of the current base, so it never drifts; it is not moved when its content is unchanged.
 */
export async function openPullRequest(octokit: Octokit, o: PullRequestOptions): Promise<{ url: string; number: number; operation: 'created' | 'updated' | 'unchanged' }> {
  const { owner, repo } = o
  const base = o.base ?? (await octokit.rest.repos.get({ owner, repo })).data.default_branch
  const baseSha = (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` })).data.object.sha
  const baseTree = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: baseSha })).data.tree.sha

  let tree = baseTree
  for (let i = 0; i < o.files.length; i += ENTRIES_PER_TREE_CALL) {
    const entries = await Promise.all(
      o.files.slice(i, i + ENTRIES_PER_TREE_CALL).map(async (file) => ({
        path: file,
        mode: '100644' as const,
        type: 'blob' as const,
        content: await readFile(path.join(o.workspace, file), 'utf8')
      }))
    )
    tree = (await octokit.rest.git.createTree({ owner, repo, base_tree: tree, tree: entries })).data.sha
  }

  const existing = await branchHead(octokit, owner, repo, o.branch)
  let changed = true
  if (existing) {
    const head = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: existing })).data
    changed = head.tree.sha !== tree || head.parents[0]?.sha !== baseSha
  }
  if (changed) {
    const commit = (await octokit.rest.git.createCommit({ owner, repo, message: o.message, tree, parents: [baseSha] })).data.sha
    if (existing) await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${o.branch}`, sha: commit, force: true })
    else await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${o.branch}`, sha: commit })
  }

  const open = await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${o.branch}`, base })
  const found = open.data[0]
  if (found) {
    await octokit.rest.pulls.update({ owner, repo, pull_number: found.number, title: o.title, body: o.body })
    if (o.labels.length) await octokit.rest.issues.addLabels({ owner, repo, issue_number: found.number, labels: o.labels })
    return { url: found.html_url, number: found.number, operation: changed ? 'updated' : 'unchanged' }
  }
  const created = (await octokit.rest.pulls.create({ owner, repo, title: o.title, body: o.body, head: o.branch, base, draft: o.draft })).data
  if (o.labels.length) await octokit.rest.issues.addLabels({ owner, repo, issue_number: created.number, labels: o.labels })
  return { url: created.html_url, number: created.number, operation: 'created' }
}

async function branchHead(octokit: Octokit, owner: string, repo: string, branch: string): Promise<string | undefined> {
  try {
    return (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined
    throw error
  }
}
