import { describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { canonicalJson, fingerprint } from '../../src/plan/fingerprint.js'
import { formatLock, keyPath, LockFileError, lockKey, readLock, writeLock, type Lock } from '../../src/state/lock.js'

const workspace = () => mkdtemp(path.join(tmpdir(), 'lock-'))
const entry = (fp: string, extra = {}) => ({ fingerprint: fp, batch: 'msgbatch_1', at: '2026-01-01T00:00:00.000Z', ...extra })
const FP = 'a'.repeat(32)

describe('fingerprint', () => {
  const params = { model: 'm', max_tokens: 10, system: 'S', messages: [{ role: 'user', content: 'Hi' }], output_config: { format: { type: 'json_schema' } } }

  it('ignores key order, and changes with every param and with the output path', () => {
    const reordered = { messages: [{ content: 'Hi', role: 'user' }], output_config: { format: { type: 'json_schema' } }, system: 'S', max_tokens: 10, model: 'm' }
    expect(fingerprint(reordered, 'out.md')).toBe(fingerprint(params, 'out.md'))
    expect(fingerprint(params, 'out.md')).toMatch(/^[0-9a-f]{32}$/)
    const variants = [
      { ...params, model: 'n' },
      { ...params, max_tokens: 11 },
      { ...params, system: 'T' },
      { ...params, messages: [{ role: 'user', content: 'Hi!' }] },
      { ...params, output_config: { format: { type: 'text' } } },
      { ...params, temperature: 0.5 }
    ]
    const all = new Set([fingerprint(params, 'out.md'), fingerprint(params, 'other.md'), ...variants.map((v) => fingerprint(v, 'out.md'))])
    expect(all.size).toBe(variants.length + 2)
  })

  it('writes canonical JSON: sorted keys, undefined fields dropped', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }], e: null })).toBe('{"a":[{"d":2}],"b":1,"e":null}')
  })
})

describe('lock file', () => {
  it('is one entry a line, sorted by key, and reads back the same', async () => {
    const ws = await workspace()
    const lock: Lock = new Map([
      ['generated/b.md', entry(FP)],
      [`generated/t.csv#${'b'.repeat(32)}`, entry('b'.repeat(32), { row: 3 })],
      ['generated/a.md', entry(FP)]
    ])
    await writeLock(ws, 'claude-batch.lock.json', lock)
    const text = await readFile(path.join(ws, 'claude-batch.lock.json'), 'utf8')
    const lines = text.split('\n')
    expect(lines[0]).toBe('{')
    expect(
      lines
        .slice(1, 4)
        .map((l) => JSON.parse(`{${l.replace(/,$/, '')}}`))
        .map((o) => Object.keys(o)[0])
    ).toEqual(['generated/a.md', 'generated/b.md', `generated/t.csv#${'b'.repeat(32)}`])
    expect(await readLock(ws, 'claude-batch.lock.json')).toEqual(new Map([...lock].sort()))
    expect(formatLock(new Map())).toBe('{}\n')
  })

  it('is empty when missing, and refused (not silently emptied) when it is not JSON', async () => {
    const ws = await workspace()
    expect((await readLock(ws, 'none.json')).size).toBe(0)
    await writeFile(path.join(ws, 'lock.json'), '{\n<<<<<<< HEAD\n"a": {}\n=======\n}\n')
    await expect(readLock(ws, 'lock.json')).rejects.toThrow(LockFileError)
    await expect(writeLock(ws, 'lock.json', new Map([['a', entry(FP)]]))).rejects.toThrow(/merge conflict/)
    expect(await readFile(path.join(ws, 'lock.json'), 'utf8')).toContain('<<<<<<<')
  })

  it('merges with what is on disk: other entries are kept, a rebuilt data file lists its rows afresh', async () => {
    const ws = await workspace()
    const row = (c: string) => `generated/t.csv#${c.repeat(32)}`
    await writeLock(
      ws,
      'l.json',
      new Map([
        ['generated/a.md', entry(FP)],
        [row('1'), entry('1'.repeat(32), { row: 0 })],
        [row('2'), entry('2'.repeat(32), { row: 1 })]
      ])
    )
    await writeLock(
      ws,
      'l.json',
      new Map([
        [row('3'), entry('3'.repeat(32), { row: 0 })],
        ['generated/b.md', entry(FP)]
      ]),
      [],
      new Set(['generated/t.csv'])
    )
    expect([...(await readLock(ws, 'l.json')).keys()]).toEqual(['generated/a.md', 'generated/b.md', row('3')])
  })

  it('obeys the output path rules', async () => {
    const ws = await workspace()
    await expect(writeLock(ws, '../outside.json', new Map())).rejects.toThrow()
    await expect(writeLock(ws, '.git/lock.json', new Map())).rejects.toThrow()
  })

  it('keys data rows by content', () => {
    expect(lockKey({ output: { kind: 'file', path: 'g/a.md' }, fingerprint: FP })).toBe('g/a.md')
    expect(lockKey({ output: { kind: 'data-row', path: 'g/t.csv', source: 't.csv', format: 'csv', index: 4 }, fingerprint: FP })).toBe(`g/t.csv#${FP}`)
    expect(keyPath(`g/t.csv#${FP}`)).toBe('g/t.csv')
    expect(keyPath('g/#notes.md')).toBe('g/#notes.md')
  })
})
