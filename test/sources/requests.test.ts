import { describe, it, expect } from '@jest/globals'
import { collect, workspace } from './helpers.js'

const params = { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }
const line = (o: unknown): string => JSON.stringify(o)

describe('requests JSONL', () => {
  it('passes ready-made requests through as they are', async () => {
    const own = { ...params, system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }], tools: [{ name: 't', input_schema: { type: 'object' } }] }
    const ws = await workspace({
      'batch/reqs.jsonl': `\uFEFF${line({ custom_id: 'first-1', params: own })}\r\n\r\n${line({ custom_id: 'Second_2', params })}\n`
    })
    const { requests, problems } = await collect(ws, { requests: 'batch/reqs.jsonl' })
    expect(problems).toEqual([])
    expect(requests).toEqual([
      { key: 'first-1', customId: 'first-1', params: own, output: { kind: 'file', path: 'generated/reqs/first-1.md' }, origin: { file: 'batch/reqs.jsonl', line: 1, row: 1 } },
      { key: 'Second_2', customId: 'Second_2', params, output: { kind: 'file', path: 'generated/reqs/Second_2.md' }, origin: { file: 'batch/reqs.jsonl', line: 3, row: 2 } }
    ])
  })

  it('checks custom_id, duplicates, extra keys, params fields and invalid JSON, each on its line', async () => {
    const ws = await workspace({
      'reqs.jsonl': [
        line({ custom_id: 'ok', params }),
        line({ custom_id: 'has space', params }),
        line({ custom_id: 'x'.repeat(65), params }),
        line({ custom_id: 'ok', params }),
        line({ custom_id: 'extra', params, method: 'POST' }),
        line({ custom_id: 'no-params' }),
        line({ custom_id: 'bad-params', params: { model: '', max_tokens: 1.5, messages: [] } }),
        line({ custom_id: 'sampling', params: { ...params, temperature: 0.3, stream: true } }),
        '{"custom_id": "broken", ',
        '"just a string"',
        line({ params })
      ].join('\n')
    })
    const { requests, problems } = await collect(ws, { requests: 'reqs.jsonl' })
    expect(requests.map((r) => r.customId)).toEqual(['ok'])
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'Line 2: custom_id "has space" must match ^[a-zA-Z0-9_-]{1,64}$: 1 to 64 letters, digits, "-" or "_".'],
      [3, `Line 3: custom_id "${'x'.repeat(65)}" must match ^[a-zA-Z0-9_-]{1,64}$: 1 to 64 letters, digits, "-" or "_".`],
      [4, 'Line 4: custom_id "ok" is already used on line 1. Each custom_id must be unique.'],
      [5, 'Line 5: unknown key "method". A line has only "custom_id" and "params".'],
      [6, 'Line 6: no "params". Add the Messages API request: {"model": "...", "max_tokens": 1024, "messages": [...]}.'],
      [7, 'Line 7: "params.model" must be a model name.'],
      [7, 'Line 7: "params.max_tokens" must be a whole number of at least 1.'],
      [7, 'Line 7: "params.messages" must be a non-empty list of messages.'],
      [
        8,
        'Line 8: "params.temperature" is not allowed: API version 2026-10-21 (which this action uses) rejects sampling parameters (temperature, top_p, top_k). Remove "temperature".'
      ],
      [8, 'Line 8: "params.stream" is not allowed: Batch requests cannot stream. Remove "stream".'],
      [9, expect.stringMatching(/^Line 9: not valid JSON \(/)],
      [10, 'Line 10: not a JSON object. Each line must be one object {"custom_id": "...", "params": {...}}.'],
      [11, 'Line 11: no "custom_id". Give each request a unique custom_id.']
    ])
    expect(problems.every((p) => p.file === 'reqs.jsonl')).toBe(true)
  })

  it('checks that every message is an object with a role and content, on its line', async () => {
    let n = 0
    const msgs = (messages: unknown) => line({ custom_id: `r${++n}`, params: { ...params, messages } })
    const ws = await workspace({
      'reqs.jsonl': [
        msgs(['hi']),
        msgs([
          { role: 'user', content: 'Hi' },
          { role: 'system', content: 'Be brief' }
        ]),
        msgs([{ role: 'user' }]),
        msgs([{ role: 'user', content: '' }]),
        msgs([{ role: 'user', content: ['Hi'] }]),
        msgs([
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
          { role: 'assistant', content: 'Sure' }
        ])
      ].join('\n')
    })
    const { requests, problems } = await collect(ws, { requests: 'reqs.jsonl' })
    expect(requests.map((r) => r.origin.line)).toEqual([6])
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual([
      ['reqs.jsonl', 1, 'Line 1: "params.messages[0]" must be an object such as {"role": "user", "content": "..."}, not "hi".'],
      ['reqs.jsonl', 2, 'Line 2: "params.messages[1]" has role "system": use "user" or "assistant" (a system prompt goes in "system").'],
      ['reqs.jsonl', 3, 'Line 3: "params.messages[0]" needs "content": a string or a list of content blocks, not nothing.'],
      ['reqs.jsonl', 4, 'Line 4: "params.messages[0]" has empty content.'],
      ['reqs.jsonl', 5, 'Line 5: "params.messages[0]".content[0] must be a content block such as {"type": "text", "text": "..."}, not "Hi".']
    ])
  })

  it('lists the first mistakes of a kind and counts the rest', async () => {
    const ws = await workspace({ 'reqs.jsonl': Array.from({ length: 100 }, () => 'not json').join('\n') })
    const { problems } = await collect(ws, { requests: 'reqs.jsonl' })
    expect(problems).toHaveLength(21)
    expect(problems[20]).toEqual({ file: 'reqs.jsonl', message: '80 more lines with the same mistake (invalid JSON) are not listed.' })
  })

  it('reports a missing requests file', async () => {
    const ws = await workspace()
    const { problems } = await collect(ws, { requests: 'nope.jsonl' })
    expect(problems).toEqual([{ message: 'Input requests: "nope.jsonl" does not exist. Check the path (it is relative to the repository root).' }])
  })
})
