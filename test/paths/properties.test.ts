/**
 * Properties of the path rules over random paths built from the segments that cause trouble:
 * `..`, `.`, `.git` and `.github` in any case, unicode, long names, NUL, line breaks, and links.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { checkOutputSyntax, foldSegment, OutputRules, SourceFiles, utf8Bytes } from '../../src/paths/output.js'
import { isInside, toWorkspacePath } from '../../src/paths/workspace.js'
import { makeWorkspace, tempDir } from './helpers.js'

const SOURCES = ['prompts/a.md', 'template.md', 'data.csv']

const segment = fc.oneof(
  fc.constantFrom('..', '.', '', '.git', '.GIT', '.Git.', '.github', '.GitHub', 'github', 'prompts', 'PROMPTS', 'a.md', 'A.md', 'template.md'),
  { arbitrary: fc.constantFrom('out', 'gh', 'up', 'file', 'dir', 'dangling', 'site'), weight: 3 }, // links and obstacles in the workspace below
  fc.constantFrom('x\n::warning::y', 'a\0b', 'c\rd', 'é'.repeat(128), 'a'.repeat(255), 'b'.repeat(256), '日本語', '\u200c.git'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 })
)
const target = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.constantFrom('', '/'), fc.constantFrom('', '/', './'))
  .map(([segments, trailing, leading]) => leading + segments.join('/') + trailing)

let ws: string
let outside: string
let sources: SourceFiles

beforeAll(async () => {
  outside = await tempDir('outside-')
  ws = await makeWorkspace({
    'prompts/a.md': 'A',
    'template.md': 'T',
    'data.csv': 'x\n1\n',
    '.github/workflows/ci.yml': 'on: push',
    '.git/HEAD': 'ref: refs/heads/main',
    'site/index.md': 'x',
    file: 'a file',
    'dir/x': 'x',
    out: { link: outside },
    gh: { link: '.github' },
    up: { link: 'prompts' },
    dangling: { link: path.join(outside, 'none') }
  })
  sources = await SourceFiles.of(ws, SOURCES)
})

describe('path rule properties', () => {
  it('an accepted output is inside the workspace (links followed), never under .git or .github, never a source, with short clean names', async () => {
    const root = await realpath(ws)
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const checked = await new OutputRules(ws, sources).check(t)
        if (checked.error !== undefined) {
          // Refusals are single lines that quote the path escaped.
          expect(checked.error).not.toMatch(/[\n\r\0]/)
          return
        }
        const p = checked.path
        expect(toWorkspacePath(ws, p)).toBe(p)
        expect(p.split('/')).not.toContain('..')
        for (const s of [...p.split('/'), ...checked.real.split('/')]) {
          expect(foldSegment(s)).not.toBe('.git')
          expect(utf8Bytes(s)).toBeLessThanOrEqual(255)
          // eslint-disable-next-line no-control-regex -- asserting no control characters
          expect(s).not.toMatch(/[\u0000-\u001f]/)
        }
        expect(foldSegment(p.split('/')[0]!)).not.toBe('.github')
        expect(foldSegment(checked.real.split('/')[0]!)).not.toBe('.github')
        const folded = (x: string) => x.split('/').map(foldSegment).join('/')
        expect(SOURCES.map(folded)).not.toContain(folded(p))
        expect(SOURCES.map(folded)).not.toContain(folded(checked.real))
        // The real folder, once links are followed, is inside the workspace.
        expect(isInside(root, path.resolve(root, checked.real))).toBe(true)
        // Through a link out (or to nothing) never; the link itself may be replaced by the rename.
        expect(p.startsWith('out/') || p.startsWith('dangling/')).toBe(false)
      }),
      { numRuns: 300 }
    )
  })

  it('a path with a trailing slash, a NUL or a line break is never accepted', () => {
    fc.assert(
      fc.property(target, fc.constantFrom('/', '\0', '\n', '\r'), (t, bad) => {
        const withBad = bad === '/' ? `${t}/` : `${t}${bad}x`
        expect(checkOutputSyntax(ws, withBad).error).toBeDefined()
      }),
      { numRuns: 200 }
    )
  })

  it('toWorkspacePath is idempotent and never leaves the workspace', () => {
    fc.assert(
      fc.property(target, (t) => {
        const once = toWorkspacePath(ws, t)
        if (once === undefined) return
        expect(toWorkspacePath(ws, once)).toBe(once)
        expect(isInside(path.resolve(ws), path.resolve(ws, once))).toBe(true)
      }),
      { numRuns: 500 }
    )
  })

  it('checking an accepted path again accepts it unchanged', () => {
    fc.assert(
      fc.property(target, (t) => {
        const once = checkOutputSyntax(ws, t)
        if (once.error !== undefined) return
        expect(checkOutputSyntax(ws, once.path)).toEqual(once)
      }),
      { numRuns: 500 }
    )
  })

  it('case does not matter for .git and .github', () => {
    fc.assert(
      fc.property(fc.constantFrom('.git', '.github'), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), fc.constantFrom('', '.', ' ', '..'), (name, upper, tail) => {
        const mixed = [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('') + tail
        expect(checkOutputSyntax(ws, `${mixed}/x.yml`).error).toMatch(/is inside \.git/)
      }),
      { numRuns: 100 }
    )
  })
})
