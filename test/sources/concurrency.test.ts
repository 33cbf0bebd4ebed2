/**
 * Prompt files are checked and read many at a time (one at a time, 100,000 files took five times the
 * least work possible), yet what comes out does not depend on which file answered first.
 */
import { describe, it, expect } from '@jest/globals'
import { readSources } from '../../src/sources/index.js'
import { nodeReadFs, type ReadFs } from '../../src/sources/read-fs.js'
import { READ_CONCURRENCY } from '../../src/sources/ordered.js'
import type { PromptRequest } from '../../src/sources/types.js'
import { context, workspace } from './helpers.js'

/** Node's calls, each held back a while (later files sooner, so they finish out of order), counting how many are in flight. */
function countingFs(): ReadFs & { peak: Record<string, number>; calls: Record<string, number> } {
  const inFlight: Record<string, number> = {}
  const peak: Record<string, number> = {}
  const calls: Record<string, number> = {}
  const wrap =
    <T>(name: string, call: (p: string) => Promise<T>) =>
    async (p: string): Promise<T> => {
      inFlight[name] = (inFlight[name] ?? 0) + 1
      calls[name] = (calls[name] ?? 0) + 1
      peak[name] = Math.max(peak[name] ?? 0, inFlight[name]!)
      try {
        const n = Number(/(\d+)\.md$/.exec(p)?.[1] ?? 0)
        await new Promise((resolve) => setTimeout(resolve, (200 - n) % 7))
        return await call(p)
      } finally {
        inFlight[name]!--
      }
    }
  return { lstat: wrap('lstat', nodeReadFs.lstat), realpath: wrap('realpath', nodeReadFs.realpath), readFile: wrap('readFile', nodeReadFs.readFile), peak, calls }
}

async function read(ws: string, fs?: ReadFs): Promise<{ requests: PromptRequest[]; problems: unknown[] }> {
  const ctx = context(ws)
  const requests: PromptRequest[] = []
  for await (const r of readSources({ prompts: ['prompts/**/*'], promptsIsDefault: false, fs }, ctx)) requests.push(r)
  return { requests, problems: ctx.problems }
}

describe('reading prompt files', () => {
  it('checks and reads many files at once, never more than the limit, and gives the same requests in the same order', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 200; i++) files[`prompts/${String(i).padStart(3, '0')}.md`] = i === 17 ? '---\nmax_tokens: [\n---\nBroken.' : `Prompt ${i}.`
    const ws = await workspace(files)
    const fs = countingFs()
    const concurrent = await read(ws, fs)
    expect(fs.peak.lstat).toBeGreaterThan(8)
    expect(fs.peak.readFile).toBeGreaterThan(8)
    expect(fs.peak.lstat).toBeLessThanOrEqual(READ_CONCURRENCY)
    expect(fs.peak.readFile).toBeLessThanOrEqual(READ_CONCURRENCY)
    // Every file sits in one folder: its real path is resolved once, not per file.
    expect(fs.calls.realpath).toBe(1)
    expect(concurrent.requests.map((r) => r.origin.file)).toEqual(Object.keys(files).filter((f) => !f.includes('017')))
    expect(concurrent.problems).toEqual([expect.objectContaining({ file: 'prompts/017.md', line: 2 })])
    expect(concurrent).toEqual(await read(ws))
  })
})
