import { describe, it, expect } from '@jest/globals'
import { prompts, workspace } from './helpers.js'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { splitFrontMatter } from '../../src/sources/markdown.js'
import { readSources } from '../../src/sources/index.js'
import type { Problem, SourceContext } from '../../src/sources/types.js'

describe('markdown prompt files', () => {
  it('sends the body as the user message with the defaults when there is no front matter', async () => {
    const ws = await workspace({ 'prompts/hello.md': 'Say hello.\n\n' })
    const { requests, problems } = await prompts(ws, 'prompts/**/*')
    expect(problems).toEqual([])
    expect(requests).toEqual([
      {
        key: 'hello',
        params: { model: 'claude-default', max_tokens: 1000, messages: [{ role: 'user', content: 'Say hello.' }] },
        output: { kind: 'file', path: 'generated/hello.md' },
        origin: { file: 'prompts/hello.md', line: 1 }
      }
    ])
  })

  it('takes model, max_tokens, system and params from the front matter; the body starts after it', async () => {
    const ws = await workspace({
      'prompts/widget.md': [
        '---',
        'model: claude-sonnet-4-5',
        'max_tokens: 2048',
        'system: You write product copy.',
        'params:',
        '  stop_sequences: ["END"]',
        '  thinking: { type: enabled, budget_tokens: 1024 }',
        '  metadata: { user_id: "u1" }',
        '---',
        '',
        '  Describe the widget.  ',
        '',
        'Keep it short.   \n\n'
      ].join('\n')
    })
    const { requests, problems } = await prompts(ws, 'prompts/*.md')
    expect(problems).toEqual([])
    expect(requests[0]!.params).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      system: 'You write product copy.',
      messages: [{ role: 'user', content: '\n  Describe the widget.  \n\nKeep it short.' }],
      stop_sequences: ['END'],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      metadata: { user_id: 'u1' }
    })
    expect(requests[0]!.origin).toEqual({ file: 'prompts/widget.md', line: 10 })
  })

  it('uses the default system prompt unless the front matter sets one', async () => {
    const ws = await workspace({
      'prompts/a.md': 'A',
      'prompts/b.md': '---\nsystem: Own system.\n---\nB',
      'prompts/c.md': '---\n---\nC'
    })
    const { requests } = await prompts(ws, 'prompts/*', { defaults: { model: 'm', maxTokens: 5, system: 'Default system.' } })
    expect(requests.map((r) => [r.key, r.params.system, r.origin.line])).toEqual([
      ['a', 'Default system.', 1],
      ['b', 'Own system.', 4],
      ['c', 'Default system.', 3]
    ])
  })

  it('reads .txt, .markdown and .prompt.md files, CRLF line ends and a BOM', async () => {
    const ws = await workspace({
      'p/one.txt': '\uFEFF---\r\nmodel: x\r\n---\r\nText prompt\r\n',
      'p/two.markdown': 'Markdown prompt',
      'p/three.prompt.md': 'Prompt md'
    })
    const { requests, problems } = await prompts(ws, 'p/*')
    expect(problems).toEqual([])
    expect(requests.map((r) => [r.key, r.params.model, r.params.messages[0]!.content, r.output])).toEqual([
      ['one', 'x', 'Text prompt', { kind: 'file', path: 'generated/one.txt' }],
      ['three', 'claude-default', 'Prompt md', { kind: 'file', path: 'generated/three.prompt.md' }],
      ['two', 'claude-default', 'Markdown prompt', { kind: 'file', path: 'generated/two.markdown' }]
    ])
  })

  it('reports an unknown key on its line, naming the allowed keys', async () => {
    const ws = await workspace({ 'prompts/a.md': '---\nmodel: x\nmaxTokens: 100\n---\nHi' })
    const { requests, problems } = await prompts(ws, 'prompts/*')
    expect(requests).toEqual([])
    expect(problems.sort((x, y) => x.file!.localeCompare(y.file!))).toEqual([
      {
        file: 'prompts/a.md',
        line: 3,
        message: 'Unknown front matter key "maxTokens". Allowed keys: model, max_tokens, system, output, params, schema. Did you mean "max_tokens"?'
      }
    ])
  })

  it('reports malformed YAML on the line of the file (where a bracket or quote opened), not of the front matter', async () => {
    const ws = await workspace({ 'prompts/a.md': '---\nmodel: x\nsystem: "unterminated\nmax_tokens: 5\n---\nHi' })
    const { problems } = await prompts(ws, 'prompts/*')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: 'prompts/a.md', line: 3 })
    expect(problems[0]!.message).toMatch(/^Invalid YAML: Missing closing "quote/)

    const ws2 = await workspace({ 'prompts/b.md': '---\n\n\nparams: [1, 2\nmodel: x\n---\nHi' })
    const second = await prompts(ws2, 'prompts/*')
    expect(second.problems[0]).toMatchObject({ file: 'prompts/b.md', line: 4 })
    expect(second.problems[0]!.message).toMatch(/^Invalid YAML: Flow sequence .* end with a \]\. Fix the syntax on this line\.$/)

    const ws3 = await workspace({ 'prompts/c.md': '---\nmodel: x\nmodel: y\n---\nHi' })
    expect((await prompts(ws3, 'prompts/*')).problems).toEqual([
      { file: 'prompts/c.md', line: 3, column: 1, message: 'Invalid YAML: this key appears twice in the same mapping. Remove one of them.' }
    ])
  })

  it('reports wrong types on their lines and keeps going', async () => {
    const ws = await workspace({
      'prompts/a.md': '---\nmodel: 42\nmax_tokens: 0\nsystem: [a]\noutput:\nparams: text\n---\nHi'
    })
    const { requests, problems } = await prompts(ws, 'prompts/*')
    expect(requests).toEqual([])
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'Front matter key "model" must be a model name, not number 42.'],
      [3, 'Front matter key "max_tokens" must be a whole number of at least 1 (e.g. 1024), not number 0.'],
      [4, 'Front matter key "system" must be text, not a list.'],
      [5, 'Front matter key "output" has no value: give it one or remove the line.'],
      [6, 'Front matter key "params" must be a mapping of Messages API fields (e.g. "stop_sequences: [END]"), not text.']
    ])
  })

  it('refuses params that have their own key, sampling parameters and stream', async () => {
    const ws = await workspace({
      'prompts/a.md': [
        '---',
        'params:',
        '  model: x',
        '  temperature: 0.2',
        '  top_p: 0.9',
        '  top_k: 5',
        '  stream: true',
        '  messages: []',
        '  stop_sequences: [x]',
        '---',
        'Hi'
      ].join('\n')
    })
    const { requests, problems } = await prompts(ws, 'prompts/*')
    expect(requests).toEqual([])
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8])
    expect(problems[0]!.message).toBe('"params.model" is not allowed: set it with the front matter key "model", not inside params')
    expect(problems[1]!.message).toBe(
      '"params.temperature" is not allowed: API version 2026-10-21 (which this action uses) rejects sampling parameters (temperature, top_p, top_k). Remove "temperature".'
    )
    expect(problems[4]!.message).toBe('"params.stream" is not allowed: Batch requests cannot stream. Remove "stream".')
  })

  it('reports an empty prompt and an unterminated front matter', async () => {
    const ws = await workspace({
      'prompts/empty.md': '---\nmodel: x\n---\n  \n\n',
      'prompts/blank.txt': '\n\n',
      'prompts/open.md': '---\nmodel: x\nHello'
    })
    const { requests, problems } = await prompts(ws, 'prompts/*')
    expect(requests).toEqual([])
    expect(problems).toEqual([
      { file: 'prompts/blank.txt', line: 1, message: 'Prompt is empty: write the prompt in the file.' },
      { file: 'prompts/empty.md', line: 4, message: 'Prompt is empty: write the prompt after the front matter.' },
      {
        file: 'prompts/open.md',
        line: 1,
        message: 'Front matter is not closed: add a line "---" after it (or remove the "---" on line 1 if the file has no front matter).'
      }
    ])
  })

  it('writes to the front matter output path when one is given', async () => {
    const ws = await workspace({ 'prompts/a.md': '---\noutput: site/about.md\n---\nHi' })
    const { requests } = await prompts(ws, 'prompts/**/*')
    expect(requests[0]!.output).toEqual({ kind: 'file', path: 'site/about.md', line: 2 })
    expect(requests[0]!.key).toBe('a')
  })

  it('accepts "..." as the closing fence and counts front matter lines', () => {
    expect(splitFrontMatter('---\na: 1\n...\nBody')).toEqual({ yaml: 'a: 1\n', lines: 3, body: 'Body' })
    expect(splitFrontMatter('No front matter\n---\n')).toEqual({ lines: 0, body: 'No front matter\n---\n' })
    expect(splitFrontMatter('---')).toEqual({ unterminated: true })
  })

  it('refuses a file that is not UTF-8 and hints at quoting a value that starts with {{', async () => {
    const ws = await workspace({ 'prompts/a.md': '---\nsystem: {{tone}}\n---\nHi', 'prompts/b.md': '---\nsystem: {{tone}} writer\n---\nHi' })
    await writeFile(path.join(ws, 'prompts', 'utf16.md'), Buffer.from('\uFEFFHello', 'utf16le'))
    const { problems, warnings } = await prompts(ws, 'prompts/*')
    expect(problems.sort((x, y) => x.file!.localeCompare(y.file!))).toEqual([
      {
        file: 'prompts/a.md',
        line: 2,
        message: 'Front matter key "system" must be text, not a mapping. Put the text in quotes ("{{...}} ..."): YAML reads a value starting with {{ as a mapping.'
      },
      {
        file: 'prompts/b.md',
        line: 2,
        column: 18,
        message:
          'Invalid YAML: Unexpected scalar at node end. Fix the syntax on this line. Put the text in quotes ("{{...}} ..."): YAML reads a value starting with {{ as a mapping.'
      },
      // An error, not a warning: its garbage would be sent and paid for as the prompt.
      { file: 'prompts/utf16.md', message: '"prompts/utf16.md" is saved as UTF-16 (or UTF-32), not UTF-8: save it as UTF-8.' }
    ])
    expect(warnings).toEqual([])
  })

  it('works with a context whose methods live on a class', async () => {
    class Reporter implements SourceContext {
      workspace: string
      outputDir = 'out'
      defaults = { model: 'm', maxTokens: 10 }
      seen: Problem[] = []
      constructor(ws: string) {
        this.workspace = ws
      }
      problem(p: Problem): void {
        this.seen.push(p)
      }
      warning(p: Problem): void {
        this.seen.push(p)
      }
    }
    const ws = await workspace({ 'prompts/a.md': '---\nbad: 1\n---\nHi', 'prompts/b.prompt.yml': 'messages:\n  - role: user\n    content: Hi\n', 'prompts/c.md': 'C' })
    const reporter = new Reporter(ws)
    const keys: string[] = []
    for await (const r of readSources({ prompts: ['prompts/*'], promptsIsDefault: false }, reporter)) keys.push(r.key)
    expect(keys).toEqual(['b', 'c'])
    expect(reporter.seen.map((p) => p.line)).toEqual([2])
  })
})
