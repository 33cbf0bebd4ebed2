import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { BranchRefusedError, checkBranchAllowed, checkBranchOwned, GENERATED_TRAILER, hasTrailer, withTrailer } from '../../src/github/branch.js'
import type { Octokit } from '../../src/github/octokit.js'
import { isTransient, UnreadableAnswerError } from '../../src/github/retry.js'

describe('the trailer', () => {
  it('is recognised on every message the action writes, whatever the message', () => {
    fc.assert(fc.property(fc.string(), (message) => hasTrailer(withTrailer(message))))
  })

  it('is not recognised in the middle of a message, nor as part of a line', () => {
    expect(hasTrailer(`Revert "x"\n\n${GENERATED_TRAILER}\n\nThis reverts commit abc.`)).toBe(false)
    expect(hasTrailer(`Fix\n\nNot ${GENERATED_TRAILER}`)).toBe(false)
    expect(hasTrailer('Fix the wording')).toBe(false)
    expect(hasTrailer(`Add results\n\nSigned-off-by: A <a@b>\n${GENERATED_TRAILER}\n`)).toBe(true)
  })
})

describe('checkBranchAllowed', () => {
  it('refuses the default branch and the base, however written', () => {
    expect(() => checkBranchAllowed('main', 'develop', 'main')).toThrow(BranchRefusedError)
    expect(() => checkBranchAllowed('refs/heads/develop', 'develop', 'main')).toThrow(/base of the pull request/)
    expect(() => checkBranchAllowed('heads/main', 'main', 'main')).toThrow(/default branch/)
    expect(() => checkBranchAllowed('claude-batch/content', 'main', 'main')).not.toThrow()
  })
})

/** An octokit that only answers the compare API, as GitHub does. */
function comparing(commits: Array<{ sha: string; message: string }>, aheadBy = commits.length): Octokit {
  return {
    rest: {
      repos: {
        compareCommitsWithBasehead: async () => ({
          data: { ahead_by: aheadBy, commits: commits.map((c) => ({ sha: c.sha, commit: { message: c.message }, parents: [{ sha: 'p' }] })) }
        })
      },
      git: {
        getCommit: async () => {
          throw new Error('the compare API answered: no walk needed')
        }
      }
    }
  } as unknown as Octokit
}

describe('checkBranchOwned, through the compare API', () => {
  const own = { sha: 'a'.repeat(40), message: withTrailer('Add results') }

  it("accepts a branch whose commits since the base are all the action's", async () => {
    await expect(checkBranchOwned(comparing([own, own]), 'o', 'r', 'b', 'head', 'base')).resolves.toBeUndefined()
  })

  it('names the first commit that is not', async () => {
    const theirs = { sha: 'b'.repeat(40), message: 'Hand edit\n\nmore' }
    await expect(checkBranchOwned(comparing([own, theirs]), 'o', 'r', 'b', 'head', 'base')).rejects.toThrow(/commit bbbbbbbbbbbb \("Hand edit"\)/)
  })

  it('refuses a branch with more commits than the compare API lists', async () => {
    await expect(checkBranchOwned(comparing([own], 300), 'o', 'r', 'b', 'head', 'base')).rejects.toThrow(/300 commits/)
  })

  it('keeps control characters of a commit message out of the error', async () => {
    const theirs = { sha: 'c'.repeat(40), message: 'x\r::warning::INJECTED' }
    await expect(checkBranchOwned(comparing([theirs]), 'o', 'r', 'b', 'head', 'base')).rejects.toThrow(/\("x ::warning::INJECTED"\)/)
  })
})

describe('isTransient', () => {
  it('retries what may pass and nothing else', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isTransient({ status })).toBe(true)
    for (const status of [400, 401, 404, 409, 410, 422]) expect(isTransient({ status })).toBe(false)
    expect(isTransient({ status: 403, message: 'You have exceeded a secondary rate limit' })).toBe(true)
    expect(isTransient({ status: 403, message: 'Resource not accessible by integration' })).toBe(false)
    expect(isTransient(new UnreadableAnswerError('html'))).toBe(true)
    expect(isTransient(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))).toBe(true)
    expect(isTransient(new Error('Unexpected end of JSON input'))).toBe(false)
  })
})
