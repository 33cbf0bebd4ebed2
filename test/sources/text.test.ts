import { describe, expect, it } from '@jest/globals'
import { decodeUtf8 } from '../../src/sources/text.js'

const decode = (bytes: Uint8Array | string) => decodeUtf8(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, 'prompts/p.md')

describe('decodeUtf8', () => {
  it('reads UTF-8, without its byte order mark', () => {
    expect(decode('\uFEFFcafé ☕\n')).toEqual({ text: 'café ☕\n' })
    expect(decode('')).toEqual({ text: '' })
  })

  it('refuses UTF-16 with or without a BOM, naming the file and the fix', () => {
    expect(decode(Buffer.from('\uFEFFHello', 'utf16le')).error).toBe('"prompts/p.md" is saved as UTF-16 (or UTF-32), not UTF-8: save it as UTF-8.')
    expect(decode(Buffer.from('\uFEFFHello', 'utf16le').swap16()).error).toMatch(/UTF-16/)
    expect(decode(Buffer.from('Hi\nthere', 'utf16le')).error).toBe(
      '"prompts/p.md" holds NUL bytes (line 1): it is a binary file or UTF-16 text, not UTF-8. Name a text file, or save it as UTF-8.'
    )
  })

  it('refuses a binary file and Latin-1 text, saying on which line', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(decode(png).error).toBe('"prompts/p.md" is not valid UTF-8 (line 1; a Latin-1 or binary file?): save it as UTF-8.')
    expect(decode(Buffer.from('line one\nline two\ncaf\xe9\n', 'latin1')).error).toMatch(/\(line 3;.*save it as UTF-8\.$/)
  })
})
