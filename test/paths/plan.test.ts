/**
 * The path rules where a user meets them: planning from real sources (before anything is spent),
 * reading a manifest back at collect, and the system-prompt-file input.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { buildPlan, type Plan } from '../../src/plan/plan.js'
import { readSources, type SourceInputs } from '../../src/sources/index.js'
import type { Problem } from '../../src/sources/types.js'
import { batchRef, buildManifest, planFromManifest } from '../../src/state/manifest.js'
import { readInputs } from '../../src/inputs.js'
import type { MessageBatch } from '../../src/anthropic/client.js'
import { makeWorkspace, tempDir } from './helpers.js'

// @actions/glob logs its options with core.debug; keep test output readable.
const write0 = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: unknown, ...rest: never[]) =>
  typeof chunk === 'string' && chunk.startsWith('::debug::') ? true : write0(chunk as string, ...rest)) as typeof process.stdout.write

async function plan(ws: string, inputs: Partial<SourceInputs>): Promise<{ plan: Plan; problems: Problem[] }> {
  const problems: Problem[] = []
  const ctx = {
    workspace: ws,
    outputDir: 'generated',
    defaults: { model: 'claude-haiku-4-5', maxTokens: 100 },
    problem: (p: Problem) => problems.push(p),
    warning: () => {}
  }
  const sources = readSources({ prompts: ['prompts/**/*'], promptsIsDefault: false, ...inputs }, ctx)
  const built = await buildPlan(sources, { workspace: ws, spoolPath: path.join(await tempDir('spool-'), 'spool'), tag: 'abcd2345', problem: (p) => problems.push(p) })
  return { plan: built, problems }
}

describe('planning', () => {
  it('refuses front matter output into .github, on the line that names it, before anything is sent', async () => {
    const ws = await makeWorkspace({ 'prompts/evil.md': '---\nmodel: claude-haiku-4-5\noutput: .github/workflows/evil.yml\n---\nWrite a workflow.\n' })
    const { problems } = await plan(ws, {})
    expect(problems).toEqual([{ file: 'prompts/evil.md', line: 3, message: expect.stringMatching(/^Output path "\.github\/workflows\/evil\.yml" is inside \.github/) }])
  })

  it('refuses an output onto the template, the data file, the requests file or the system prompt file', async () => {
    const ws = await makeWorkspace({
      'prompts/t.md': '---\noutput: template.md\n---\nA\n',
      'prompts/d.md': '---\noutput: data.csv\n---\nB\n',
      'prompts/r.md': '---\noutput: Requests.jsonl\n---\nC\n',
      'prompts/s.md': '---\noutput: config/system.txt\n---\nD\n',
      'template.md': 'Say {{word}}\n',
      'data.csv': 'word\nhi\n',
      'requests.jsonl': '{"custom_id":"x","params":{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}}\n',
      'config/system.txt': 'Be brief.\n'
    })
    const { plan: built, problems } = await plan(ws, { data: 'data.csv', template: 'template.md', requests: 'requests.jsonl', systemPromptFile: 'config/system.txt' })
    const overwrites = problems.filter((p) => /would overwrite/.test(p.message)).map((p) => p.file)
    expect(overwrites.sort()).toEqual(['prompts/d.md', 'prompts/r.md', 'prompts/s.md', 'prompts/t.md'])
    expect(built.sources).toEqual(['config/system.txt', 'data.csv', 'prompts/d.md', 'prompts/r.md', 'prompts/s.md', 'prompts/t.md', 'requests.jsonl', 'template.md'])
  })

  it('refuses an output onto a prompt file read later, and never reads the system prompt file as a prompt', async () => {
    const ws = await makeWorkspace({ 'prompts/a.md': '---\noutput: prompts/z.md\n---\nA\n', 'prompts/z.md': 'Z\n', 'prompts/system.md': 'Be brief.\n' })
    const { plan: built, problems } = await plan(ws, { systemPromptFile: 'prompts/system.md' })
    expect(problems).toEqual([{ file: 'prompts/a.md', line: 4, message: expect.stringMatching(/"prompts\/z\.md" would overwrite a source file/) }])
    expect(built.requests.map((r) => r.origin.file)).toEqual(['prompts/a.md', 'prompts/z.md'])
  })

  it('refuses outputs that fail only when written: a directory, a file as parent, a long name, a trailing slash', async () => {
    const ws = await makeWorkspace({
      'prompts/dir.md': '---\noutput: site\n---\nA\n',
      'prompts/parent.md': '---\noutput: notes.txt/a.md\n---\nB\n',
      'prompts/slash.md': '---\noutput: generated/dir/\n---\nC\n',
      [`prompts/${'n'.repeat(250)}.md`]: 'D\n',
      'site/index.md': 'x',
      'notes.txt': 'x'
    })
    const { problems } = await plan(ws, {})
    const byFile = Object.fromEntries(problems.map((p) => [p.file, p.message]))
    expect(byFile['prompts/dir.md']).toMatch(/"site" is an existing directory/)
    expect(byFile['prompts/parent.md']).toMatch(/"notes\.txt" is a file, not a folder/)
    expect(byFile['prompts/slash.md']).toMatch(/names a directory/)
    expect(byFile[`prompts/${'n'.repeat(250)}.md`]).toBeUndefined() // 253 bytes: fits
    expect(problems).toHaveLength(3)
  })

  it('refuses a .prompt.yml row id that makes a name over 255 bytes', async () => {
    const id = 'r'.repeat(260)
    const ws = await makeWorkspace({
      'prompts/p.prompt.yml': `model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: Hi {{x}}\ntestData:\n  - id: ${id}\n    x: a\n`
    })
    const { problems } = await plan(ws, {})
    expect(problems).toEqual([expect.objectContaining({ file: 'prompts/p.prompt.yml', message: expect.stringMatching(/file or folder name of 263 bytes/) })])
  })

  it('sees two outputs differing only in case as one file', async () => {
    const ws = await makeWorkspace({ 'prompts/a.md': '---\noutput: out/Same.md\n---\nA\n', 'prompts/b.md': '---\noutput: out/same.md\n---\nB\n' })
    const { problems } = await plan(ws, {})
    expect(problems).toEqual([{ file: 'prompts/b.md', line: 4, message: 'Output path "out/same.md" is also the output of prompts/a.md:4. Give one of them another `output`.' }])
  })
})

const batch = (id: string) => batchRef({ id, created_at: '2026-11-24T00:00:00Z', expires_at: '2026-11-25T00:00:00Z' } as MessageBatch, 0, true)

describe('a manifest at collect', () => {
  const base: Plan = {
    tag: 'abcd2345',
    spoolPath: '',
    chunks: [{ start: 0, end: 1, bytes: 0 }],
    requests: [
      { customId: 'abcd2345_a', model: 'm', maxTokens: 1, origin: { file: 'prompts/a.md', line: 1 }, output: { kind: 'file', path: 'generated/a.md' }, offset: 0, bytes: 0 }
    ],
    dataOutputs: [],
    sources: ['prompts/a.md', 'template.md']
  }
  const manifest = () => JSON.parse(JSON.stringify(buildManifest(base, [batch('b1')], { outputDir: 'generated', startedAt: '2026-11-24T00:00:00Z', env: {} })))

  it('round-trips the source list, and refuses an output that is a source: the request file, or one only the list names', async () => {
    const ws = await makeWorkspace({ 'prompts/a.md': 'A', 'template.md': 'T' })
    expect((await planFromManifest(manifest(), ws)).plan.sources).toEqual(['prompts/a.md', 'template.md'])
    for (const bad of ['prompts/a.md', 'template.md', 'PROMPTS/a.md']) {
      const m = manifest()
      m.requests[0][6] = bad
      await expect(planFromManifest(m, ws)).rejects.toThrow(/would overwrite/)
    }
  })

  it('refuses what submit refuses: .github, a NUL, a line break, a directory', async () => {
    const ws = await makeWorkspace({ 'generated/dir/x': 'x' })
    const cases: Array<[string, RegExp]> = [
      ['.github/workflows/evil.yml', /inside \.github/],
      ['generated/a\0.md', /NUL byte/],
      ['generated/x\n::warning::INJECTED', /line break/],
      ['generated/dir', /existing directory/]
    ]
    for (const [bad, error] of cases) {
      const m = manifest()
      m.requests[0][6] = bad
      const thrown = await planFromManifest(m, ws).then(
        () => '',
        (e: Error) => e.message
      )
      expect(thrown).toMatch(error)
      expect(thrown).not.toMatch(/\n/)
    }
  })

  it('refuses a source path that is not a workspace path or would break a log line', async () => {
    const ws = await makeWorkspace()
    for (const bad of ['../x.md', 'p/x\n::error::boom.md']) {
      const m = manifest()
      m.requests[0][3] = bad
      await expect(planFromManifest(m, ws)).rejects.toThrow(/not a workspace path/)
    }
  })
})

describe('system-prompt-file', () => {
  const saved = { ...process.env }
  afterEach(() => {
    process.env = { ...saved }
  })

  async function inputs(ws: string, file: string) {
    process.env = { ...saved, GITHUB_WORKSPACE: ws, INPUT_PROMPTS: 'prompts/**/*', 'INPUT_SYSTEM-PROMPT-FILE': file }
    return readInputs(process.env)
  }

  it('reads a file inside the workspace and remembers its path', async () => {
    const ws = await makeWorkspace({ 'config/system.txt': '\uFEFFBe brief.\n\n' })
    const { inputs: read, problems } = await inputs(ws, 'config/system.txt')
    expect(problems).toEqual([])
    expect(read).toMatchObject({ system: 'Be brief.', systemPromptFile: 'config/system.txt' })
  })

  it('refuses a symbolic link out of the workspace, and sends nothing of its target', async () => {
    const outside = await tempDir('outside-')
    const secret = path.join(outside, 'secret.txt')
    await (await import('node:fs/promises')).writeFile(secret, 'TOP SECRET')
    const ws = await makeWorkspace({ 'config/system.txt': { link: secret } })
    const { inputs: read, problems } = await inputs(ws, 'config/system.txt')
    expect(problems).toEqual([
      { file: 'config/system.txt', message: 'Input system-prompt-file: "config/system.txt" is a symbolic link to a file outside the workspace: name a file inside the repository.' }
    ])
    expect(read.system).toBeUndefined()
  })

  it('refuses a path leaving the workspace, a missing file and a directory, each in words', async () => {
    const ws = await makeWorkspace({ 'config/x': 'x' })
    expect((await inputs(ws, '../etc/passwd')).problems[0]!.message).toMatch(/leaves the workspace/)
    expect((await inputs(ws, 'nope.txt')).problems[0]!.message).toMatch(/"nope\.txt" does not exist/)
    expect((await inputs(ws, 'config')).problems[0]!.message).toMatch(/"config" is a directory/)
  })
})
