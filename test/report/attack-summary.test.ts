/**
 * The job summary is Markdown with HTML blocks in it: a blank line inside a table cell ends the HTML
 * block, and whatever follows is read as Markdown (links, images, headings). Hostile text (a reply's
 * property names in a validation note, a value read back from a generated file, a file name) must
 * never make one.
 */
import { describe, expect, it } from '@jest/globals'
import * as core from '@actions/core'
import { addDistributions } from '../../src/report/distribution.js'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { escape, writeSummary } from '../../src/report/summary.js'
import { CostTally } from '../../src/cost/cost.js'
import type { ResultCollector } from '../../src/results/collect.js'

const HOSTILE = 'billing\n\n[Sign in again](https://evil.example/login)\r\n\r\n# Pwned </td></table>'

describe('attack: hostile text in the job summary', () => {
  it('escape leaves no line break, so no blank line can end an HTML block', () => {
    const out = escape(HOSTILE)
    expect(out).not.toMatch(/[\r\n]/)
    expect(out).not.toContain('</td>')
    expect(out).toContain('[Sign in again]')
  })

  it('a distribution with hostile values and property names stays one HTML block', () => {
    core.summary.emptyBuffer()
    addDistributions(core.summary, [{ path: 'generated/t.csv\n\nx', rows: 2, properties: new Map([[HOSTILE, new Map([[HOSTILE, 2]])]]) }], escape)
    const html = core.summary.stringify()
    core.summary.emptyBuffer()
    expect(html).not.toMatch(/\n\s*\n/)
    expect(html).not.toContain('</td></table>')
  })

  it('a model name the API answers with (an unknown, unpriced one) is escaped', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'attack-summary-')), 'summary.md')
    await writeFile(file, '')
    process.env.GITHUB_STEP_SUMMARY = file
    const costs = new CostTally({})
    costs.add('<img src=x onerror=alert(1)>', { input_tokens: 1, output_tokens: 1 })
    const results = { written: new Set(), counts: { succeeded: 1, errored: 0, canceled: 0, expired: 0 }, costs, truncated: 0, distributions: [] } as unknown as ResultCollector
    core.summary.emptyBuffer()
    await writeSummary({ headline: 'done', batchIds: [], problems: [], warnings: [], results, dryRun: false })
    const html = await readFile(file, 'utf8')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html).not.toContain('<img')
  })
})
