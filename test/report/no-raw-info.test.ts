/**
 * `core.info` writes raw text: one call with an untrusted name holding a line break can start a
 * workflow command. Every plain log line goes through src/report/log.ts instead; this test fails
 * when a new direct call appears anywhere else.
 */
import { describe, expect, it } from '@jest/globals'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { ROOT } from '../support/run-action.js'

// Files that still call core.info directly, waiting for their owner to switch to report/log.ts.
// Shrink this list; never grow it.
const NOT_YET_CONVERTED = new Set<string>([])

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...(await sourceFiles(full)))
    else if (entry.name.endsWith('.ts')) files.push(full)
  }
  return files
}

// `core.info(`, `info` imported from @actions/core, or `core['info']`.
const RAW_INFO = /\bcore\s*\.\s*info\s*\(|\bcore\s*\[\s*['"]info['"]\s*\]|import\s*\{[^}]*\binfo\b[^}]*\}\s*from\s*['"]@actions\/core['"]/

describe('plain log lines', () => {
  it('go through src/report/log.ts, not core.info', async () => {
    const offenders: string[] = []
    for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/')
      if (rel === 'src/report/log.ts' || NOT_YET_CONVERTED.has(rel)) continue
      if (RAW_INFO.test(await readFile(file, 'utf8'))) offenders.push(rel)
    }
    expect(offenders).toEqual([])
  })

  it('has an allow-list that names only files still calling core.info', async () => {
    const stale: string[] = []
    for (const rel of NOT_YET_CONVERTED) {
      const text = await readFile(path.join(ROOT, rel), 'utf8').catch(() => '')
      if (!RAW_INFO.test(text)) stale.push(rel)
    }
    expect(stale).toEqual([])
  })
})
