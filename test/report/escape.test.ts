import { describe, expect, it } from '@jest/globals'
import { esc, safeLine } from '../../src/report/escape.js'

/** What the runner does with one stdout line: trims leading blanks and reads `::` as a command. */
const isCommand = (line: string): boolean => line.trimStart().startsWith('::')

describe('esc', () => {
  it('shows line breaks and control characters as visible escapes', () => {
    expect(esc('x\n::warning::INJECTED.md')).toBe('x\\n::warning::INJECTED.md')
    expect(esc('a\r\nb')).toBe('a\\r\\nb')
    expect(esc('a\u2028b\u2029c\u0085d')).toBe('a\\u2028b\\u2029c\\x85d')
    expect(esc('\u001b[31mred\u0000\u007f')).toBe('\\x1b[31mred\\0\\x7f')
  })

  it('leaves ordinary text, tabs and non-ASCII letters alone', () => {
    expect(esc('prompts/été\tcafé — 日本.md')).toBe('prompts/été\tcafé — 日本.md')
    expect(esc(42)).toBe('42')
  })
})

describe('safeLine', () => {
  it('never yields more than one line, nor a line the runner reads as a command', () => {
    for (const hostile of ['::warning::x', '   ::error::x', 'a\n::set-output name=x::y', '\r::add-mask::k', 'b\u2028::debug::c', '\t::group::g']) {
      const line = safeLine(hostile)
      expect(line.split(/\r\n|\r|\n|\u0085|\u2028|\u2029/)).toHaveLength(1)
      expect(isCommand(line)).toBe(false)
    }
  })

  it('keeps a line that holds `::` later on as written', () => {
    expect(safeLine('Created msgbatch_1 at 10::30')).toBe('Created msgbatch_1 at 10::30')
  })
})
