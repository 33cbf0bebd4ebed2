/** The annotation cap: what GitHub shows of a step is the 10 most useful of each level, then a count. */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { annotate, fail, flushAnnotations, notice, ordered, reportError, warn, type Annotation } from '../../src/report/annotations.js'
import { parseAnnotations } from '../support/run-action.js'

let out = ''
beforeEach(() => {
  out = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
})
afterEach(async () => {
  jest.restoreAllMocks()
  process.exitCode = undefined
})

const emitted = () => parseAnnotations(out)

describe('annotations', () => {
  it('shows at most 10 of a level: the 9 most useful, then "…and N more: see the job summary"', async () => {
    const files = Array.from({ length: 30 }, (_, i) => ({ file: `prompts/p${String(30 - i).padStart(2, '0')}.md`, line: 1, message: `bad ${30 - i}` }))
    annotate('error', files)
    reportError('The batch msgbatch_1 could not be read.')
    fail('30 problems found; nothing was submitted.')
    for (let i = 0; i < 4; i++) warn(`warning ${i}`)
    let listed: Annotation[] = []
    await flushAnnotations(async (all) => {
      listed = all
    })

    const errors = emitted().filter((a) => a.level === 'error')
    expect(errors).toHaveLength(10)
    // What concerns the whole run, and the failure, as raised; then files in path order, and the count.
    expect(errors[0]!.message).toBe('The batch msgbatch_1 could not be read.')
    expect(errors[1]!.message).toBe('30 problems found; nothing was submitted.')
    expect(errors.slice(2, 9).map((a) => a.file)).toEqual([
      'prompts/p01.md',
      'prompts/p02.md',
      'prompts/p03.md',
      'prompts/p04.md',
      'prompts/p05.md',
      'prompts/p06.md',
      'prompts/p07.md'
    ])
    expect(errors[9]!.message).toBe('…and 23 more errors: see the job summary.')
    // Warnings have a budget of their own, and all 4 fit.
    expect(
      emitted()
        .filter((a) => a.level === 'warning')
        .map((a) => a.message)
    ).toEqual(['warning 0', 'warning 1', 'warning 2', 'warning 3'])
    // The job summary is given every one, so that "see the job summary" is true.
    expect(listed).toHaveLength(36)
    expect(process.exitCode).toBe(1)
  })

  it('shows all 10 when there are exactly 10, and asks nothing of the summary', async () => {
    for (let i = 0; i < 10; i++) notice(`n${i}`)
    const list = jest.fn(async () => {})
    await flushAnnotations(list)
    expect(emitted().map((a) => a.message)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`))
    expect(list).not.toHaveBeenCalled()
  })

  it('keeps file, line and title, drops exact repeats, and empties the queue', async () => {
    annotate('warning', [{ file: 'a b/c.md', line: 3, message: 'odd key' }], 'Front matter')
    annotate('warning', [{ file: 'a b/c.md', line: 3, message: 'odd key' }], 'Front matter')
    await flushAnnotations()
    expect(emitted()).toEqual([{ level: 'warning', file: 'a b/c.md', line: 3, title: 'Front matter', message: 'odd key' }])
    out = ''
    await flushAnnotations()
    expect(emitted()).toEqual([])
  })

  it('orders files by path, then line, the same on every machine', () => {
    const all: Annotation[] = [
      { level: 'error', file: 'b.md', line: 2, message: '1' },
      { level: 'error', file: 'B.md', line: 1, message: '2' },
      { level: 'error', file: 'b.md', line: 1, message: '3' },
      { level: 'error', message: '4' }
    ]
    expect(ordered('error', all).map((a) => a.message)).toEqual(['4', '2', '3', '1'])
  })

  it('emits run-wide ones at once (a killed step has said them), 8 at most, keeping slots for the failure and the count', async () => {
    for (let i = 0; i < 12; i++) warn(`run-wide ${i}`)
    expect(emitted().map((a) => a.message)).toEqual(Array.from({ length: 8 }, (_, i) => `run-wide ${i}`))
    fail('stopped')
    expect(emitted().at(-1)).toEqual({ level: 'error', message: 'stopped' })
    await flushAnnotations()
    const warnings = emitted()
      .filter((a) => a.level === 'warning')
      .map((a) => a.message)
    expect(warnings).toEqual([...Array.from({ length: 9 }, (_, i) => `run-wide ${i}`), '…and 3 more warnings: see the job summary.'])
  })

  it('logs each queued annotation as a plain line when raised, so the log keeps those GitHub does not show', async () => {
    warn('first\n::error::injected', { file: 'x.md' })
    expect(out).toContain('Warning (x.md): first\\n::error::injected')
    expect(emitted()).toEqual([])
    await flushAnnotations()
  })
})
