import type { Octokit } from './octokit.js'

/**
 * Which branches the action may write. It rebuilds its branch on the current base with a force
 * update, so a branch is only ever written when nothing but the action's own commits would be
 * replaced: never the base or the default branch, and never a branch holding someone's work.
 */

/** The trailer the action writes on every commit; it is how it recognises its own. */
export const GENERATED_TRAILER = 'Generated-by: claude-batch-action'

export function withTrailer(message: string): string {
  return `${message.trimEnd()}\n\n${GENERATED_TRAILER}\n`
}

/** True when the message's last paragraph carries the trailer (where git puts trailers). */
export function hasTrailer(message: string): boolean {
  const paragraphs = message.trimEnd().split(/\n\s*\n/)
  return paragraphs[paragraphs.length - 1]!.split('\n').some((line) => line.trim() === GENERATED_TRAILER)
}

/** A branch the action refuses to write, with what to do about it. */
export class BranchRefusedError extends Error {
  override readonly name = 'BranchRefusedError'
}

/** `refs/heads/x` and `heads/x` name the branch x; the API's ref paths want the bare name. */
export function branchName(name: string): string {
  return name.replace(/^refs\/heads\//, '').replace(/^heads\//, '')
}

/**
 * Refuses a pr-branch that is the pull request's base or the repository's default branch.
 * Cheap and done first, before anything is written.
 */
export function checkBranchAllowed(branch: string, base: string, defaultBranch: string): void {
  const name = branchName(branch)
  if (name === branchName(base) || name === defaultBranch) {
    const which = name === defaultBranch ? `the repository's default branch` : 'the base of the pull request (pr-base)'
    throw new BranchRefusedError(
      `pr-branch "${name}" is ${which}: the action rebuilds its branch with a force update and would replace that branch's history. ` +
        `Choose a branch of its own for pr-branch (for example claude-batch/content), or leave pr-branch empty.`
    )
  }
}

interface CommitInfo {
  sha: string
  message: string
  parents: string[]
}

// The action leaves one commit on its branch; a few more are tolerated (older versions, a re-run).
const MAX_OWN_COMMITS = 20
// How far back the base's history is searched for the commit the branch left it at.
const MAX_BASE_COMMITS = 100

/**
 * Throws BranchRefusedError unless every commit on `branch` (at `headSha`) since it left the base
 * (at `baseSha`) carries the trailer. Asks the compare API first (one call lists exactly those
 * commits); where it cannot answer (404: no common history, or an API without it) walks the
 * branch down its own commits and the base back to where the branch left it.
 */
export async function checkBranchOwned(octokit: Octokit, owner: string, repo: string, branch: string, headSha: string, baseSha: string): Promise<void> {
  const foreign = (commit: CommitInfo, why = 'was not written by this action') =>
    new BranchRefusedError(
      `Branch "${branch}" has commit ${commit.sha.slice(0, 12)} ("${firstLine(commit.message)}") that ${why}. ` +
        `The action only updates a branch that holds nothing but its own commits (marked "${GENERATED_TRAILER}"), so that no work is lost. ` +
        `Choose another pr-branch, or delete the branch "${branch}" if what it holds is not needed, and run again.`
    )

  let compared: { commits: CommitInfo[]; aheadBy: number } | undefined
  try {
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${baseSha}...${headSha}`, per_page: 100 })
    compared = {
      aheadBy: data.ahead_by,
      commits: data.commits.map((c) => ({ sha: c.sha, message: c.commit.message, parents: c.parents.map((p) => p.sha) }))
    }
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error
  }
  if (compared) {
    const other = compared.commits.find((c) => !hasTrailer(c.message))
    if (other) throw foreign(other)
    if (compared.aheadBy > compared.commits.length) {
      throw new BranchRefusedError(
        `Branch "${branch}" has ${compared.aheadBy} commits the base does not have, more than the action ever writes. Choose another pr-branch, or delete the branch "${branch}" and run again.`
      )
    }
    return
  }

  // Down the branch while the commits are the action's own.
  const getCommit = async (sha: string): Promise<CommitInfo & { date: number }> => {
    const { data } = await octokit.rest.git.getCommit({ owner, repo, commit_sha: sha })
    return { sha: data.sha, message: data.message, parents: data.parents.map((p) => p.sha), date: Date.parse(data.committer.date) }
  }
  let commit = await getCommit(headSha)
  for (let own = 0; ; own++) {
    if (commit.sha === baseSha) return
    if (!hasTrailer(commit.message)) break
    if (commit.parents.length !== 1) throw foreign(commit, 'is a merge')
    if (own >= MAX_OWN_COMMITS) throw foreign(commit, `is more than ${MAX_OWN_COMMITS} commits above the base`)
    commit = await getCommit(commit.parents[0]!)
  }
  // `commit` is the first that is not the action's: it must be where the branch left the base,
  // that is in the base's history. Commits older than it cannot lead to it, which ends the search.
  const leftAt = commit
  let base = await getCommit(baseSha)
  for (let i = 0; i < MAX_BASE_COMMITS; i++) {
    if (base.sha === leftAt.sha) return
    if (base.date < leftAt.date || !base.parents.length) break
    base = await getCommit(base.parents[0]!)
  }
  throw foreign(leftAt)
}

function firstLine(message: string): string {
  // From the API: no control character may reach a log line.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const controls = /[\u0000-\u001f\u007f]/g
  const line = message.split('\n', 1)[0]!.replace(controls, ' ').trim()
  return line.length > 72 ? `${line.slice(0, 71)}…` : line
}
