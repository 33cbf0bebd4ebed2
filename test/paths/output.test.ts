/**
 * The output path rules, one case per rule, on a real workspace with real links.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checkOutputPath, OutputRules, SourceFiles } from '../../src/paths/output.js'
import { OutputPathError, writeOutputFile } from '../../src/results/atomic.js'
import { makeWorkspace, tempDir } from './helpers.js'

async function refused(ws: string, target: string, sources?: SourceFiles): Promise<string> {
  const checked = await checkOutputPath(ws, target, sources)
  if (checked.error === undefined) throw new Error(`${JSON.stringify(target)} was accepted as ${checked.path}`)
  return checked.error
}

describe('output path rules', () => {
  it('accepts an ordinary path and gives it workspace-relative and POSIX', async () => {
    const ws = await makeWorkspace({ 'generated/old.md': 'x' })
    expect(await checkOutputPath(ws, './generated//a/../b.md')).toEqual({ path: 'generated/b.md', real: 'generated/b.md' })
    expect(await checkOutputPath(ws, 'generated/old.md')).toEqual({ path: 'generated/old.md', real: 'generated/old.md' })
    expect(await checkOutputPath(ws, 'new/deep/dir/c.md')).toEqual({ path: 'new/deep/dir/c.md', real: 'new/deep/dir/c.md' })
  })

  it('refuses a NUL byte, a line break and other control characters, and escapes the path in the message', async () => {
    const ws = await makeWorkspace()
    expect(await refused(ws, 'generated/a\0b.md')).toBe('Output path "generated/a\\u0000b.md" contains a NUL byte: file and folder names must not. Rename it.')
    const lf = await refused(ws, 'x\n::warning::INJECTED.md')
    expect(lf).toMatch(/a line break \(U\+000A\)/)
    expect(lf).not.toMatch(/\n/)
    expect(await refused(ws, 'x\r.md')).toMatch(/line break \(U\+000D\)/)
    expect(await refused(ws, 'x\u001b[31m.md')).toMatch(/control character \(U\+001B\)/)
  })

  it('refuses a path that names a directory: a trailing slash, "." or ".."', async () => {
    const ws = await makeWorkspace()
    expect(await refused(ws, 'generated/dir/')).toMatch(/^Output path "generated\/dir\/" names a directory, not a file\. .*"generated\/dir\/output\.md"/)
    expect(await refused(ws, 'generated/dir/.')).toMatch(/names a directory/)
    expect(await refused(ws, 'generated/..')).toMatch(/names a directory/)
  })

  it('refuses a path outside the workspace, lexically', async () => {
    const ws = await makeWorkspace()
    for (const p of ['../escape.md', 'a/../../escape.md', '/etc/passwd']) expect(await refused(ws, p)).toMatch(/is outside the workspace/)
    expect(await refused(ws, '.')).toMatch(/names a directory|outside/)
    // Absolute but inside is the same path written differently.
    expect(await checkOutputPath(ws, path.join(ws, 'in.md'))).toMatchObject({ path: 'in.md' })
  })

  it('refuses a path that leaves the workspace through a symbolic link, including a dangling one', async () => {
    const outside = await tempDir('outside-')
    const ws = await makeWorkspace({ 'links/away': { link: outside }, 'links/gone': { link: path.join(outside, 'not-yet') } })
    expect(await refused(ws, 'links/away/x.md')).toMatch(/outside the workspace once symbolic links are followed \(through "links\/away"\)/)
    expect(await refused(ws, 'links/away/new/deeper/x.md')).toMatch(/outside the workspace once symbolic links are followed/)
    expect(await refused(ws, 'links/gone/x.md')).toMatch(/"links\/gone" is a symbolic link to something that does not exist/)
    expect(await readdir(outside)).toEqual([])
  })

  it('accepts a link that stays inside, and reports where it really leads', async () => {
    const ws = await makeWorkspace({ 'site/.keep': '', out: { link: 'site' } })
    expect(await checkOutputPath(ws, 'out/a.md')).toEqual({ path: 'out/a.md', real: 'site/a.md' })
  })

  it('refuses a segment over 255 bytes of UTF-8, saying which and how long', async () => {
    const ws = await makeWorkspace()
    const long = 'é'.repeat(128) // 128 characters, 256 bytes
    const error = await refused(ws, `generated/${long}.md`)
    expect(error).toMatch(/has a file or folder name of 259 bytes \("éééé/)
    expect(error).toMatch(/at most 255/)
    expect(await checkOutputPath(ws, `generated/${'a'.repeat(252)}.md`)).toMatchObject({ path: `generated/${'a'.repeat(252)}.md` })
    expect(await refused(ws, `${'d/'.repeat(2100)}x.md`)).toMatch(/bytes long/)
  })

  it('refuses .git anywhere and .github at the top, in any case and as Windows or macOS would read them', async () => {
    const ws = await makeWorkspace()
    for (const p of ['.git/hooks/pre-commit', '.GIT/config', 'sub/.git/config', '.git./config', '.git /x', '.g\u200cit/x']) {
      expect(await refused(ws, p)).toMatch(/is inside \.git/)
    }
    for (const p of ['.github/workflows/evil.yml', '.GitHub/workflows/evil.yml', '.github', '.github./CODEOWNERS']) {
      expect(await refused(ws, p)).toMatch(/is inside \.github, where generated text could become a workflow/)
    }
    for (const p of ['docs/.github/x.md', '.githubx/a.md', '.gitignore.md', 'git/a.md']) {
      expect(await checkOutputPath(ws, p)).toMatchObject({ path: p })
    }
  })

  it('refuses a link that leads into .github or .git', async () => {
    const ws = await makeWorkspace({ '.github/workflows/ci.yml': 'on: push', gen: { link: '.github/workflows' }, g: { link: '.git' }, '.git/HEAD': 'ref' })
    expect(await refused(ws, 'gen/evil.yml')).toMatch(/leads through a symbolic link to "\.github\/workflows\/evil\.yml", which is inside \.github/)
    expect(await refused(ws, 'g/hooks/pre-commit')).toMatch(/inside \.git/)
  })

  it('refuses an existing directory (EISDIR) and a parent that is a file (ENOTDIR/EEXIST)', async () => {
    const ws = await makeWorkspace({ 'generated/dir/x.md': 'x', 'generated/file.md': 'x' })
    expect(await refused(ws, 'generated/dir')).toBe('Output path "generated/dir" is an existing directory. Give the output a file name inside it, or another path.')
    expect(await refused(ws, 'generated/file.md/a.md')).toMatch(/cannot be created: "generated\/file\.md" is a file, not a folder/)
    expect(await refused(ws, 'generated/file.md/deeper/a.md')).toMatch(/"generated\/file\.md" is a file/)
  })

  it('refuses every source file: by name, in another case, and through a link', async () => {
    const ws = await makeWorkspace({ 'prompts/a.md': 'A', 'template.md': 'T {{x}}', 'system.txt': 'S', via: { link: 'prompts' } })
    const sources = await SourceFiles.of(ws, ['prompts/a.md', 'template.md', 'system.txt'])
    expect(await refused(ws, 'template.md', sources)).toMatch(/^Output path "template\.md" would overwrite a source file of this run/)
    expect(await refused(ws, 'system.txt', sources)).toMatch(/would overwrite a source file/)
    expect(await refused(ws, 'Prompts/A.md', sources)).toMatch(/would overwrite the source file "prompts\/a\.md"/)
    expect(await refused(ws, 'via/a.md', sources)).toMatch(/would overwrite the source file "prompts\/a\.md"/)
    expect(await checkOutputPath(ws, 'prompts/b.md', sources)).toMatchObject({ path: 'prompts/b.md' })
  })

  it('caches folders but not answers about the file: a checker sees a directory made after its first check', async () => {
    const ws = await makeWorkspace({ 'generated/.keep': '' })
    const rules = new OutputRules(ws)
    expect(await rules.check('generated/a.md')).toMatchObject({ path: 'generated/a.md' })
    await mkdir(path.join(ws, 'generated/a.md'))
    expect(await rules.check('generated/a.md')).toMatchObject({ error: expect.stringMatching(/existing directory/) })
  })
})

describe('writeOutputFile', () => {
  it('writes whole files, making folders, and leaves no temporary file', async () => {
    const ws = await makeWorkspace()
    await writeOutputFile(ws, 'generated/deep/a.md', 'hello\n')
    await writeOutputFile(ws, 'generated/deep/a.md', 'again\n')
    expect(await readFile(path.join(ws, 'generated/deep/a.md'), 'utf8')).toBe('again\n')
    expect(await readdir(path.join(ws, 'generated/deep'))).toEqual(['a.md'])
  })

  it('streams through a writer function, and keeps the old file when the writer fails', async () => {
    const ws = await makeWorkspace({ 'generated/t.csv': 'old' })
    await expect(
      writeOutputFile(ws, 'generated/t.csv', async (temporary) => {
        await writeFile(temporary, 'half')
        throw new Error('source changed')
      })
    ).rejects.toThrow('source changed')
    expect(await readFile(path.join(ws, 'generated/t.csv'), 'utf8')).toBe('old')
    expect(await readdir(path.join(ws, 'generated'))).toEqual(['t.csv'])
    await writeOutputFile(ws, 'generated/t.csv', (temporary) => writeFile(temporary, 'new'))
    expect(await readFile(path.join(ws, 'generated/t.csv'), 'utf8')).toBe('new')
  })

  it('re-checks at write time what can change after planning: a link swapped in, a directory, a file as parent', async () => {
    const outside = await tempDir('outside-')
    const ws = await makeWorkspace({ 'generated/.keep': '' })
    // Planned while generated/ was a folder; by collect time it is a link out.
    await rm(path.join(ws, 'generated'), { recursive: true })
    await symlink(outside, path.join(ws, 'generated'))
    await expect(writeOutputFile(ws, 'generated/a.md', 'x')).rejects.toThrow(OutputPathError)
    expect(await readdir(outside)).toEqual([])

    const ws2 = await makeWorkspace({ 'out/dir/inner.md': 'x', 'out/file': 'x' })
    await expect(writeOutputFile(ws2, 'out/dir', 'x')).rejects.toThrow(/existing directory/)
    await expect(writeOutputFile(ws2, 'out/file/a.md', 'x')).rejects.toThrow(/is a file, not a folder/)
    await expect(writeOutputFile(ws2, '.github/workflows/x.yml', 'x')).rejects.toThrow(/inside \.github/)
    await expect(writeOutputFile(ws2, '../x.md', 'x')).rejects.toThrow(/outside the workspace/)
    await expect(writeOutputFile(ws2, 'a\nb.md', 'x')).rejects.toThrow(/line break/)
  })

  it('replaces a link at the path itself rather than writing through it', async () => {
    const outside = await tempDir('outside-')
    await writeFile(path.join(outside, 'target.md'), 'keep')
    const ws = await makeWorkspace({ 'generated/a.md': { link: path.join(outside, 'target.md') } })
    await writeOutputFile(ws, 'generated/a.md', 'new')
    expect(await readFile(path.join(outside, 'target.md'), 'utf8')).toBe('keep')
    expect(await readFile(path.join(ws, 'generated/a.md'), 'utf8')).toBe('new')
  })
})
