import { describe, it, expect } from '@jest/globals'
import { prompts, workspace } from './helpers.js'

const SUMMARIZER = `name: Text Summarizer
description: Summarizes text
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.5
  maxTokens: 300
  stop: ["---"]
messages:
  - role: system
    content: You are a text summarizer.
  - role: system
    content: Be brief.
  - role: user
    content: |
      Summarize: <text>{{input}}</text>
      In {{ style }} style.
testData:
  - input: The quick brown fox.
    style: terse
    expected: Summary - fox
  - id: second-row
    input: 42
    style: [a, b]
  - input: true
    style: plain
evaluators:
  - name: starts right
    string: { startsWith: 'Summary -' }
`

describe('.prompt.yml files', () => {
  it('sends one request per testData row, named by id or row number', async () => {
    const ws = await workspace({ 'prompts/tools/summarize.prompt.yml': SUMMARIZER })
    const { requests, problems, warnings } = await prompts(ws, 'prompts/**/*')
    expect(problems).toEqual([])
    expect(requests.map((r) => [r.key, r.output, r.origin])).toEqual([
      ['tools/summarize/1', { kind: 'file', path: 'generated/tools/summarize/1.md' }, { file: 'prompts/tools/summarize.prompt.yml', line: 18, row: 1 }],
      ['tools/summarize/second-row', { kind: 'file', path: 'generated/tools/summarize/second-row.md' }, { file: 'prompts/tools/summarize.prompt.yml', line: 21, row: 2 }],
      ['tools/summarize/3', { kind: 'file', path: 'generated/tools/summarize/3.md' }, { file: 'prompts/tools/summarize.prompt.yml', line: 24, row: 3 }]
    ])
    expect(requests[0]!.params).toEqual({
      model: 'openai/gpt-4o-mini',
      max_tokens: 300,
      system: 'You are a text summarizer.\n\nBe brief.',
      messages: [{ role: 'user', content: 'Summarize: <text>The quick brown fox.</text>\nIn terse style.' }],
      stop_sequences: ['---']
    })
    expect(requests[1]!.params.messages[0]!.content).toBe('Summarize: <text>42</text>\nIn ["a","b"] style.')
    expect(requests[2]!.params.messages[0]!.content).toBe('Summarize: <text>true</text>\nIn plain style.')
    expect(requests[0]!.params).not.toHaveProperty('temperature')
    expect(warnings).toEqual([
      {
        file: 'prompts/tools/summarize.prompt.yml',
        line: 5,
        message: 'modelParameters.temperature is not sent: API version 2026-10-21 rejects sampling parameters.'
      }
    ])
  })

  it('sends a single request without testData, with the defaults', async () => {
    const ws = await workspace({
      'prompts/hello.prompt.yaml': 'messages:\n  - role: user\n    content: Hello\n  - role: assistant\n    content: "Hi! "\n  - role: User\n    content: Tell me a joke.\n'
    })
    const { requests, problems } = await prompts(ws, 'prompts/*', { defaults: { model: 'claude-default', maxTokens: 64, system: 'Default' } })
    expect(problems).toEqual([])
    expect(requests).toEqual([
      {
        key: 'hello',
        params: {
          model: 'claude-default',
          max_tokens: 64,
          system: 'Default',
          messages: [
            { role: 'user', content: 'Hello' },
            { role: 'assistant', content: 'Hi!' },
            { role: 'user', content: 'Tell me a joke.' }
          ]
        },
        output: { kind: 'file', path: 'generated/hello.md' },
        origin: { file: 'prompts/hello.prompt.yaml', line: 3 }
      }
    ])
  })

  it('reports a template variable without testData on its line', async () => {
    const ws = await workspace({
      'p/a.prompt.yml': 'messages:\n  - role: user\n    content: |\n      First line\n      Hello {{name}}\n'
    })
    const { requests, problems } = await prompts(ws, 'p/*')
    expect(requests).toEqual([])
    expect(problems).toEqual([
      {
        file: 'p/a.prompt.yml',
        line: 5,
        message: 'Missing template variable "name": this file has no testData to fill it. Add testData rows with "name", or remove {{name}}.'
      }
    ])
  })

  it('reports a variable missing from many rows once, with the first row and a count', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => `  - input: row ${i}`).join('\n')
    const ws = await workspace({
      'p/big.prompt.yml': `messages:\n  - role: user\n    content: "{{input}} / {{lang}}"\ntestData:\n${rows}\n  - input: last\n    lang: fr\n`
    })
    const { requests, problems } = await prompts(ws, 'p/*')
    expect(requests.map((r) => r.key)).toEqual(['big/10001'])
    expect(problems).toEqual([
      {
        file: 'p/big.prompt.yml',
        line: 5,
        message:
          'Template variable "lang" is missing from testData rows 1, 2, 3, 4, 5 and 9995 more (10000 of 10001 rows). Add "lang" to those rows or remove {{lang}} from the messages. Fields in the first such row: "input".'
      }
    ])
  })

  it('reports unknown keys, unknown roles, empty content, no user message, bad and duplicate ids', async () => {
    const ws = await workspace({
      'p/a.prompt.yml': [
        'model: x',
        'temprature: 1',
        'modelParameters: { max_tokens: 5 }',
        'messages:',
        '  - role: narrator',
        '    content: Once',
        '  - role: user',
        '    content: "  "',
        'responseFormat: json_object'
      ].join('\n'),
      'p/b.prompt.yml': 'messages:\n  - role: system\n    content: Only system\n',
      'p/c.prompt.yml': [
        'messages:',
        '  - role: user',
        '    content: "{{x}}"',
        'testData:',
        '  - { id: a, x: 1 }',
        '  - { id: a, x: 2 }',
        '  - { id: ../up, x: 3 }',
        '  - { id: .hidden, x: 4 }'
      ].join('\n')
    })
    const { requests, problems, warnings } = await prompts(ws, 'p/*')
    expect(requests.map((r) => r.key)).toEqual(['c/a'])
    expect(problems).toEqual([
      {
        file: 'p/a.prompt.yml',
        line: 2,
        message: expect.stringMatching(
          /^Unknown key "temprature"\. Allowed keys: name, description, model, modelParameters, messages, testData, evaluators, responseFormat, jsonSchema\.$/
        )
      },
      {
        file: 'p/a.prompt.yml',
        line: 3,
        message: 'Unknown modelParameters key "max_tokens". Allowed keys: maxTokens, maxCompletionTokens, temperature, topP, stop. Did you mean "maxTokens"?'
      },
      { file: 'p/a.prompt.yml', line: 5, message: 'Unknown message role "narrator". Use one of: system, user, assistant.' },
      { file: 'p/a.prompt.yml', line: 8, message: 'Message content is empty: write the message or remove it.' },
      { file: 'p/b.prompt.yml', line: 2, message: 'There is no user message: add one with "role: user".' },
      { file: 'p/c.prompt.yml', line: 6, message: 'testData row 2 has the same name "a" as the row on line 5: give each row a different id.' },
      { file: 'p/c.prompt.yml', line: 7, message: 'testData row 3: id "../up" cannot be a file name. Use letters, digits, "-", "_" and "." (not first).' },
      { file: 'p/c.prompt.yml', line: 8, message: 'testData row 4: id ".hidden" cannot be a file name. Use letters, digits, "-", "_" and "." (not first).' }
    ])
    expect(warnings.map((w) => [w.file, w.line])).toEqual([['p/a.prompt.yml', 9]])
  })

  it('reports malformed YAML with its line', async () => {
    const ws = await workspace({ 'p/a.prompt.yml': 'messages:\n  - role: user\n    content: [unclosed\nmodel: x\n' })
    const { problems } = await prompts(ws, 'p/*')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: 'p/a.prompt.yml', line: 3 })
    expect(problems[0]!.message).toMatch(/^Invalid YAML: /)
  })
})
