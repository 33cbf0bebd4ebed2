/** The pieces of the job summary: links to sources and artifacts, folded tables, prices, and a summary that cannot be written. */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import { artifactLink, artifactUrl, sourceLink, sourceUrl } from '../../src/report/links.js'
import { escape, table } from '../../src/report/html.js'
import { sourceFor } from '../../src/report/summary.js'
import { MAX_SUMMARY_BYTES, writeJobSummary } from '../../src/report/summary-file.js'
import { flushAnnotations } from '../../src/report/annotations.js'
import { parseAnnotations } from '../support/run-action.js'

const RUN = { GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'octo/site', GITHUB_SHA: 'a'.repeat(40), GITHUB_RUN_ID: '77' }

describe('links', () => {
  it('point a source at its line at the commit, each path segment encoded', () => {
    expect(sourceUrl('prompts/a b/#1?.md', 12, RUN)).toBe(`https://github.example/octo/site/blob/${'a'.repeat(40)}/prompts/a%20b/%231%3F.md#L12`)
    expect(sourceLink('prompts/<x>.md', 3, RUN)).toBe(
      `<a href="https://github.example/octo/site/blob/${'a'.repeat(40)}/prompts/%3Cx%3E.md#L3"><code>prompts/&lt;x&gt;.md:3</code></a>`
    )
  })

  it('are left out without the run variables (a local run): the text stays', () => {
    expect(sourceUrl('a.md', 1, { GITHUB_REPOSITORY: 'octo/site', GITHUB_SHA: 'abc1234' })).toBeUndefined()
    expect(sourceLink('a.md', 1, {})).toBe('<code>a.md:1</code>')
    expect(sourceUrl('a.md', 1, { ...RUN, GITHUB_SHA: 'not a sha' })).toBeUndefined()
  })

  it("point at one artifact when its id is known, else at the run's artifacts", () => {
    expect(artifactUrl(5, RUN)).toBe('https://github.example/octo/site/actions/runs/77/artifacts/5')
    expect(artifactUrl(undefined, RUN)).toBe('https://github.example/octo/site/actions/runs/77#artifacts')
    expect(artifactLink('claude-batch-results-x', undefined, {})).toBe('<code>claude-batch-results-x</code>')
  })
})

describe('tables', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => [String(i)])
  it('fold in <details> past 20 rows, and not at 20', () => {
    expect(table(['n'], rows(20), '20 rows')).not.toContain('<details>')
    const folded = table(['n'], rows(21), '21 rows')
    expect(folded).toMatch(/^<details><summary>21 rows<\/summary>\n\n<table>/)
    expect(folded.match(/<tr>/g)).toHaveLength(22)
  })

  it('escape text, quotes included', () => {
    expect(escape('<a href="x">&')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;')
  })
})

describe('price source', () => {
  const text = 'Anthropic pricing (the page), as of 2026-11-24; Fable 5.2 and Haiku 5.5 from third-party reports of 2026-11-10. Override with the model-prices input.'
  it('names the third-party prices only for a run of those models', () => {
    expect(sourceFor(['claude-haiku-4-5-20251001'], text)).toBe('Anthropic pricing (the page), as of 2026-11-24. Override with the model-prices input.')
    expect(sourceFor(['claude-fable-5-2'], text)).toBe(text.replace('24;', '24.'))
    expect(sourceFor(['claude-haiku-5-5', 'claude-opus-4-8'], text)).toContain('Haiku 5.5 from third-party reports')
  })
})

describe('a job summary that cannot be written', () => {
  let dir: string
  const saved = process.env.GITHUB_STEP_SUMMARY
  let out = ''
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cba-summary-'))
    // core.summary remembers the first file it wrote to (one process, one step); each test has its own.
    ;(core.summary as unknown as { _filePath?: string })._filePath = undefined
    out = ''
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      return true
    })
  })
  afterEach(() => {
    jest.restoreAllMocks()
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY
    else process.env.GITHUB_STEP_SUMMARY = saved
    process.exitCode = undefined
  })

  it('is a warning, not a failure, when the file cannot be written', async () => {
    // A path the runner would not give: its folder does not exist (and root ignores file modes).
    process.env.GITHUB_STEP_SUMMARY = path.join(dir, 'gone', 'summary.md')
    await writeJobSummary(core.summary.addRaw('<p>hello</p>'))
    await flushAnnotations()
    expect(parseAnnotations(out)).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/Could not write the job summary/) })])
    expect(process.exitCode).toBeUndefined()
    // The buffer is emptied: the next write does not carry this one's text.
    expect(core.summary.isEmptyBuffer()).toBe(true)
  })

  it('leaves out a part that would take it over 1 MiB, with a warning and a note', async () => {
    const file = path.join(dir, 'summary.md')
    await writeFile(file, 'x'.repeat(MAX_SUMMARY_BYTES - 500))
    process.env.GITHUB_STEP_SUMMARY = file
    await writeJobSummary(core.summary.addRaw('Q'.repeat(1000)))
    await flushAnnotations()
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain('Q')
    expect(text).toContain('Part of this summary was left out')
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES)
    expect(parseAnnotations(out)).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/over GitHub's 1 MiB limit/) })])
  })

  it('writes nothing and warns of nothing where there is no summary (a local run)', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    await writeJobSummary(core.summary.addRaw('<p>hello</p>'))
    await flushAnnotations()
    expect(parseAnnotations(out)).toEqual([])
    expect(core.summary.isEmptyBuffer()).toBe(true)
  })
})
