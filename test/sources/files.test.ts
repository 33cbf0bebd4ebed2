import { describe, it, expect } from '@jest/globals'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { collect, prompts, workspace } from './helpers.js'
import { expandBraces, globBase } from '../../src/sources/files.js'

describe('prompt globs and output paths', () => {
  it('takes the pattern directory before the first wildcard as the base of output paths and keys', async () => {
    const ws = await workspace({
      'prompts/products/widget.md': 'W',
      'prompts/intro.txt': 'I',
      'content/shoes/descriptions/boot.md': 'B',
      'docs/a.md': 'A'
    })
    const { requests, problems } = await prompts(ws, ['prompts/**/*', 'content/*/descriptions/*.md', 'docs/a.md'])
    expect(problems).toEqual([])
    expect(requests.map((r) => [r.origin.file, r.key, r.output])).toEqual([
      ['prompts/intro.txt', 'intro', { kind: 'file', path: 'generated/intro.txt' }],
      ['prompts/products/widget.md', 'products/widget', { kind: 'file', path: 'generated/products/widget.md' }],
      ['content/shoes/descriptions/boot.md', 'shoes/descriptions/boot', { kind: 'file', path: 'generated/shoes/descriptions/boot.md' }],
      ['docs/a.md', 'a', { kind: 'file', path: 'generated/a.md' }]
    ])
  })

  it('reads a file matched by several patterns once, with the base of the first pattern', async () => {
    const ws = await workspace({ 'prompts/sub/x.md': 'X' })
    const { requests, problems } = await prompts(ws, ['prompts/sub/*.md', 'prompts/**/*.md'])
    expect(problems).toEqual([])
    expect(requests.map((r) => r.output)).toEqual([{ kind: 'file', path: 'generated/x.md' }])
  })

  it('gives the same order on every run: by path within each pattern, patterns in the order written', async () => {
    const names = ['b.md', 'a.md', 'C.md', 'a/z.md', 'a-b.md', '10.md', '9.md']
    const ws = await workspace(Object.fromEntries(names.map((n) => [`p/${n}`, n])))
    const first = await prompts(ws, ['p/**/*.md'])
    expect(first.requests.map((r) => r.origin.file)).toEqual(['p/10.md', 'p/9.md', 'p/C.md', 'p/a-b.md', 'p/a.md', 'p/a/z.md', 'p/b.md'])
    const again = await prompts(ws, ['p/**/*.md'])
    expect(again.requests).toEqual(first.requests)
    const reordered = await prompts(ws, ['p/b.md', 'p/**/*.md'])
    expect(reordered.requests.map((r) => r.origin.file)[0]).toBe('p/b.md')
  })

  it('reports a pattern the user wrote that matches nothing', async () => {
    const ws = await workspace({ 'prompts/a.md': 'A' })
    const { requests, problems } = await prompts(ws, ['prompts/*.md', 'missing/**/*.md'])
    expect(requests).toHaveLength(1)
    expect(problems).toEqual([
      { message: 'Pattern `missing/**/*.md` (input prompts) matched no files: check the pattern and the folder names (paths are relative to the repository root), or remove it.' }
    ])
  })

  it('lets the default pattern match nothing when data or requests are given, but not otherwise', async () => {
    const ws = await workspace({ 'reqs.jsonl': '{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}}\n' })
    const withRequests = await collect(ws, { prompts: ['prompts/**/*'], promptsIsDefault: true, requests: 'reqs.jsonl' })
    expect(withRequests.problems).toEqual([])
    expect(withRequests.requests).toHaveLength(1)

    const alone = await collect(ws, { prompts: ['prompts/**/*'], promptsIsDefault: true })
    expect(alone.problems).toEqual([{ message: 'No prompts found: put prompt files under prompts/ or set the prompts, data or requests input.' }])

    await mkdir(path.join(ws, 'prompts'))
    await writeFile(path.join(ws, 'prompts', '.gitkeep'), '')
    const onlyGitkeep = await collect(ws, { prompts: ['prompts/**/*'], promptsIsDefault: true })
    expect(onlyGitkeep.problems).toEqual(alone.problems)
    expect(onlyGitkeep.warnings).toEqual([])
  })

  it('skips dotfiles silently and warns about other files that are not prompts', async () => {
    const ws = await workspace({
      'prompts/.gitkeep': '',
      'prompts/.drafts/wip.md': 'WIP',
      'prompts/logo.png': 'png',
      'prompts/config.json': '{}',
      'prompts/notes.yml': 'a: 1',
      'prompts/real.md': 'Real'
    })
    const { requests, problems, warnings } = await prompts(ws, 'prompts/**/*')
    expect(problems).toEqual([])
    expect(requests.map((r) => r.origin.file)).toEqual(['prompts/real.md'])
    expect(warnings).toEqual(
      ['prompts/config.json', 'prompts/logo.png', 'prompts/notes.yml'].map((file) => ({
        file,
        message: 'Skipped: not a prompt file (expected .md, .txt or .prompt.yml).'
      }))
    )
  })

  it('does not treat the data, template or requests files as prompts', async () => {
    const ws = await workspace({
      'prompts/template.md': 'Describe {{name}}',
      'prompts/rows.csv': 'name\nwidget\n',
      'prompts/own.md': 'Own prompt'
    })
    const { requests, problems, warnings } = await collect(ws, {
      prompts: ['prompts/**/*'],
      promptsIsDefault: true,
      data: 'prompts/rows.csv',
      template: 'prompts/template.md'
    })
    expect(problems).toEqual([])
    expect(warnings).toEqual([])
    expect(requests.map((r) => r.key)).toEqual(['own', 'rows-1'])
  })

  it('refuses patterns that are absolute or leave the workspace', async () => {
    const ws = await workspace({ 'prompts/a.md': 'A' })
    const { requests, problems } = await prompts(ws, ['../outside/*.md', '/etc/*.md', `${ws}/prompts/*.md`, 'prompts/../prompts/a.md'])
    expect(requests.map((r) => r.origin.file)).toEqual(['prompts/a.md'])
    expect(problems).toEqual([
      { message: 'Pattern `../outside/*.md` (input prompts) leaves the workspace: paths must stay inside the repository.' },
      { message: 'Pattern `/etc/*.md` (input prompts) is an absolute path: write it relative to the workspace.' },
      {
        message: `Pattern \`${ws}/prompts/*.md\` (input prompts) is an absolute path: write it relative to the workspace. Write it as \`prompts/*.md\`.`
      }
    ])
  })

  it('refuses a symbolic link to a file outside the workspace, and reads one that stays inside', async () => {
    const outside = await workspace({ 'secret.md': 'Secret' })
    const ws = await workspace({ 'prompts/a.md': 'A', 'shared/b.md': 'B' })
    await symlink(path.join(outside, 'secret.md'), path.join(ws, 'prompts', 'leak.md'))
    await symlink(path.join(ws, 'shared', 'b.md'), path.join(ws, 'prompts', 'b.md'))
    await symlink(outside, path.join(ws, 'prompts', 'dirlink'))
    const { requests, problems } = await prompts(ws, 'prompts/**/*')
    expect(requests.map((r) => [r.origin.file, r.params.messages[0]!.content])).toEqual([
      ['prompts/a.md', 'A'],
      ['prompts/b.md', 'B']
    ])
    expect(problems).toEqual([
      {
        file: 'prompts/leak.md',
        message: 'This prompt file is a symbolic link to a file outside the workspace: prompt files must be inside the repository.'
      }
    ])
  })

  it('reads the files of a directory named without wildcards, excludes !patterns and expands {a,b}', async () => {
    const ws = await workspace({
      'docs/prompts/a.md': 'A',
      'docs/prompts/drafts/b.md': 'B',
      'content/en/x.md': 'EN',
      'content/fr/x.md': 'FR',
      'content/de/x.md': 'DE'
    })
    const dir = await prompts(ws, ['docs/prompts', '!docs/prompts/drafts/**'])
    expect(dir.problems).toEqual([])
    expect(dir.requests.map((r) => r.key)).toEqual(['a'])
    const braces = await prompts(ws, ['content/{en,fr}/*.md'])
    expect(braces.requests.map((r) => r.key)).toEqual(['en/x', 'fr/x'])
  })

  it('computes the base directory and brace alternatives of a pattern', () => {
    expect(globBase('prompts/**/*')).toBe('prompts')
    expect(globBase('content/*/descriptions/*.md')).toBe('content')
    expect(globBase('docs/a.md')).toBe('docs')
    expect(globBase('a.md')).toBe('')
    expect(globBase('x/{a,b}/c.md')).toBe('x')
    expect(globBase('x/[ab]/c.md')).toBe('x')
    expect(expandBraces('p/{a,b{1,2}}/*.{md,txt}')).toEqual(['p/a/*.md', 'p/a/*.txt', 'p/b1/*.md', 'p/b1/*.txt', 'p/b2/*.md', 'p/b2/*.txt'])
    expect(expandBraces('p/{single}/x')).toEqual(['p/{single}/x'])
  })
})
