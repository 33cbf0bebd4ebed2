/**
 * GitHub shows 10 annotations of a level a step and drops the rest; src/report/annotations.ts queues
 * them, orders them and caps them so that the ones shown are the useful ones and the last says how
 * many more the job summary lists. A direct core.error/warning/notice/setFailed would slip past that
 * cap (and its order), and a direct core.summary.write() past the rule that a summary that cannot be
 * written is a warning: this test fails when either appears outside its module.
 */
import { describe, expect, it } from '@jest/globals'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { ROOT } from '../support/run-action.js'

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...(await sourceFiles(full)))
    else if (entry.name.endsWith('.ts')) files.push(full)
  }
  return files
}

// `core.warning(`, `core['warning']`, or one of them imported by name from @actions/core.
const RAW_ANNOTATION =
  /\bcore\s*\.\s*(error|warning|notice|setFailed)\b|\bcore\s*\[\s*['"](error|warning|notice|setFailed)['"]\s*\]|import\s*\{[^}]*\b(error|warning|notice|setFailed)\b[^}]*\}\s*from\s*['"]@actions\/core['"]/
// A summary written without writeJobSummary: `.write()` (core.summary's) anywhere but there.
const RAW_SUMMARY_WRITE = /\.write\(\s*(\{[^)]*\})?\s*\)/

async function offenders(pattern: RegExp, allowed: string): Promise<string[]> {
  const found: string[] = []
  for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/')
    if (rel === allowed) continue
    // Comments may name what they forbid.
    const code = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
    if (pattern.test(code)) found.push(rel)
  }
  return found
}

describe('annotations and the job summary', () => {
  it('are raised only through src/report/annotations.ts, never core.error/warning/notice/setFailed', async () => {
    expect(await offenders(RAW_ANNOTATION, 'src/report/annotations.ts')).toEqual([])
  })

  it('are written only through writeJobSummary (src/report/summary-file.ts)', async () => {
    expect(await offenders(RAW_SUMMARY_WRITE, 'src/report/summary-file.ts')).toEqual([])
  })

  it('would catch a direct call', () => {
    expect(RAW_ANNOTATION.test("core.warning('x')")).toBe(true)
    expect(RAW_ANNOTATION.test("core.setFailed('x')")).toBe(true)
    expect(RAW_ANNOTATION.test("import { error, getInput } from '@actions/core'")).toBe(true)
    expect(RAW_ANNOTATION.test('log: core.warning,')).toBe(true)
    expect(RAW_ANNOTATION.test("warn('x')")).toBe(false)
    expect(RAW_SUMMARY_WRITE.test('await core.summary.addRaw(x).write()')).toBe(true)
  })
})
