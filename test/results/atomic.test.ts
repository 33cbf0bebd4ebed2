import { describe, expect, it } from '@jest/globals'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeOutputFile } from '../../src/results/atomic.js'
import { MAX_SEGMENT_BYTES } from '../../src/paths/output.js'
import { makeWorkspace } from '../support/run-action.js'

describe('writeOutputFile', () => {
  it('writes a file whose name is as long as the path rules allow, and leaves no temporary file', async () => {
    const ws = await makeWorkspace()
    const name = `${'n'.repeat(MAX_SEGMENT_BYTES - 3)}.md`
    await writeOutputFile(ws, `generated/${name}`, 'long\n')
    expect(await readFile(path.join(ws, 'generated', name), 'utf8')).toBe('long\n')
    expect(await readdir(path.join(ws, 'generated'))).toEqual([name])
  })

  it('writes many files into shared new folders at once, each whole', async () => {
    const ws = await makeWorkspace()
    const files = Array.from({ length: 200 }, (_, i) => `generated/d${i % 5}/sub/${i}.md`)
    await Promise.all(files.map((f, i) => writeOutputFile(ws, f, `text ${i}\n`)))
    for (const [i, f] of files.entries()) expect(await readFile(path.join(ws, f), 'utf8')).toBe(`text ${i}\n`)
    expect((await readdir(path.join(ws, 'generated/d0/sub'))).length).toBe(40)
  })
})
