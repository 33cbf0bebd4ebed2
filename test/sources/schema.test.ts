import { describe, it, expect } from '@jest/globals'
import { collect, prompts, workspace } from './helpers.js'
import { unsupportedFeatures } from '../../src/sources/schema.js'
import { ReplyValidator } from '../../src/results/validate.js'
import { fingerprint } from '../../src/plan/fingerprint.js'

const CLOSED = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }

describe('schemas: what structured outputs refuse', () => {
  it.each([
    [{ type: 'integer', minimum: 1 }, /do not support "minimum"/],
    [{ type: 'string', maxLength: 5 }, /do not support "maxLength"/],
    [{ type: 'array', items: { type: 'string' }, minItems: 2 }, /"minItems" may only be 0 or 1/],
    [{ type: 'object', properties: {}, additionalProperties: true }, /"additionalProperties" must be false/],
    [{ enum: [{ a: 1 }] }, /"enum" may only hold strings/],
    [{ type: 'string', format: 'phone' }, /Format "phone" is not supported/],
    [{ type: 'string', pattern: '(a)\\1' }, /backreferences/],
    [{ type: 'string', pattern: '\\bword' }, /word boundaries/],
    [{ $ref: 'https://example.com/s.json' }, /Only references within the schema/],
    [{ oneOf: [{ type: 'string' }] }, /use anyOf instead/],
    [{ type: 'objekt' }, /"type" must be one of/],
    [{ $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } }, $ref: '#/$defs/node' }, /Recursive schemas are not supported/]
  ])('refuses %j', (schema, message) => {
    expect(
      unsupportedFeatures(schema)
        .map((i) => i.message)
        .join('\n')
    ).toMatch(message)
  })

  it('accepts the documented subset and closes open objects, as the SDKs do', () => {
    const schema = {
      type: 'object',
      properties: {
        when: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        kind: { anyOf: [{ type: 'string' }, { type: 'null' }] }
      }
    }
    expect(unsupportedFeatures(schema)).toEqual([])
    expect(schema).toMatchObject({ additionalProperties: false })
  })
})

describe('schemas in prompt sources', () => {
  it('a front matter schema file is relative to the prompt and must stay inside the workspace', async () => {
    const ws = await workspace({
      'prompts/a.md': '---\nschema: ../../outside.json\n---\nHi\n',
      'prompts/b.md': '---\nschema: missing.json\n---\nHi\n'
    })
    const { problems, requests } = await prompts(ws, 'prompts/*.md')
    expect(requests).toEqual([])
    expect(problems).toEqual([
      { file: 'prompts/a.md', line: 2, message: expect.stringContaining('leaves the workspace') },
      { file: 'prompts/b.md', line: 2, message: expect.stringContaining('"prompts/missing.json" does not exist') }
    ])
  })

  it('refuses output_config.format inside params: the schema has its own key', async () => {
    const ws = await workspace({ 'p.md': '---\nparams:\n  output_config: { format: { type: json_schema, schema: {} } }\n---\nHi\n' })
    const { problems } = await prompts(ws, 'p.md')
    expect(problems).toEqual([{ file: 'p.md', line: 3, message: expect.stringContaining('front matter key "schema"') }])
  })

  it('schema-file applies to prompts that name none; a prompt naming one keeps its own', async () => {
    const ws = await workspace({
      'schema.json': JSON.stringify(CLOSED),
      'prompts/plain.md': 'Hi\n',
      'prompts/own.md': '---\nschema: { type: object, properties: { b: { type: integer } } }\n---\nHi\n'
    })
    const { problems, requests } = await collect(ws, { prompts: ['prompts/*.md'], schemaFile: 'schema.json' })
    expect(problems).toEqual([])
    const byKey = Object.fromEntries(requests.map((r) => [r.key, r]))
    expect(byKey.plain!.params.output_config).toEqual({ format: { type: 'json_schema', schema: CLOSED } })
    expect(byKey.plain!.output).toEqual({ kind: 'file', path: 'generated/plain.json' })
    expect((byKey.own!.params.output_config as { format: { schema: { properties: unknown } } }).format.schema.properties).toEqual({ b: { type: 'integer' } })
  })

  it('a data file with a schema: columns in schema order, a clash with a source column refused before spending', async () => {
    const ws = await workspace({
      'rows.csv': 'id,category\n1,x\n',
      'rows.jsonl': '{"id":1,"text":"a"}\n{"id":2,"summary":"b"}\n',
      't.md': '---\nschema:\n  type: object\n  properties:\n    summary: { type: string }\n    category: { type: string, enum: [a, b] }\n---\nGo {{id}}\n'
    })
    const csv = await collect(ws, { data: 'rows.csv', template: 't.md' })
    expect(csv.problems).toEqual([{ file: 'rows.csv', line: 1, message: expect.stringContaining('column "category" is also a property of the schema (t.md:2)') }])
    const jsonl = await collect(ws, { data: 'rows.jsonl', template: 't.md' })
    expect(jsonl.problems).toEqual([{ file: 'rows.jsonl', line: 2, message: expect.stringContaining('Row 2 already has a field named "summary", which is also a property') }])
    expect(jsonl.requests[0]!.output).toMatchObject({ kind: 'data-row', columns: ['summary', 'category'] })
  })

  it('.prompt.yml: responseFormat json_schema needs jsonSchema; a mapping works as well as JSON text', async () => {
    const ws = await workspace({
      'a.prompt.yml': 'messages: [{ role: user, content: Hi }]\nresponseFormat: json_schema\n',
      'b.prompt.yml':
        'messages: [{ role: user, content: Hi }]\nresponseFormat: json_schema\njsonSchema:\n  name: x\n  schema: { type: object, properties: { ok: { type: boolean } } }\n',
      'c.prompt.yml': 'messages: [{ role: user, content: Hi }]\njsonSchema: \'{"name": "x", "schema": {"type": "string"}}\'\n'
    })
    const { problems, warnings, requests } = await prompts(ws, '*.prompt.yml')
    expect(problems).toEqual([{ file: 'a.prompt.yml', line: 2, message: expect.stringContaining('there is no jsonSchema') }])
    expect(warnings).toEqual([{ file: 'c.prompt.yml', line: 2, message: expect.stringContaining('responseFormat: json_schema') }])
    const b = requests.find((r) => r.key === 'b')!
    expect(b.params.output_config).toEqual({ format: { type: 'json_schema', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, additionalProperties: false } } })
    expect(b.output).toEqual({ kind: 'file', path: 'generated/b.json' })
  })
})

describe('pay once', () => {
  it('the lock fingerprint covers the schema: changing only the schema file regenerates the output', async () => {
    const print = async (schema: object) => {
      const ws = await workspace({ 'p.md': '---\nschema: s.json\n---\nHi\n', 's.json': JSON.stringify(schema) })
      const [r] = (await prompts(ws, 'p.md')).requests
      return fingerprint(r!.params, 'generated/p.json')
    }
    expect(await print(CLOSED)).toBe(await print(CLOSED))
    expect(await print(CLOSED)).not.toBe(await print({ ...CLOSED, properties: { a: { type: 'string', enum: ['x'] } } }))
  })
})

describe('replies checked against their schema', () => {
  const validator = new ReplyValidator([CLOSED])
  it('passes a reply that fits', () => {
    expect(validator.check(0, '{"a":"x"}', 'end_turn', 100)).toEqual({ ok: true, value: { a: 'x' } })
  })
  it('says why a reply does not fit, and that a cut-off one needs more max_tokens', () => {
    expect(validator.check(0, '{"a":1,"b":2}', 'end_turn', 100)).toEqual({
      ok: false,
      message: expect.stringMatching(/^the reply does not fit the schema: .*must NOT have additional properties \(b\).*\/a must be string/)
    })
    expect(validator.check(0, '{"a":"x', 'max_tokens', 100)).toEqual({ ok: false, message: expect.stringMatching(/^cut off: raise max_tokens \(100\).*not JSON/) })
  })
})
