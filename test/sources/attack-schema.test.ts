/**
 * Hostile and careless schemas: what a repository can put in a schema file or front matter, checked
 * before anything is spent.
 */
import { describe, it, expect } from '@jest/globals'
import { prompts, workspace } from './helpers.js'
import { unsupportedFeatures } from '../../src/sources/schema.js'
import { ReplyValidator } from '../../src/results/validate.js'

describe('attack: recursive schemas are refused however the loop is written', () => {
  it.each([
    ['the root by "#"', { type: 'object', properties: { child: { $ref: '#' } } }],
    ['a property by its path', { type: 'object', properties: { a: { type: 'object', properties: { b: { $ref: '#/properties/a' } } } } }],
    ['a definition through the root', { $defs: { node: { type: 'object', properties: { up: { $ref: '#' } } } }, type: 'object', properties: { n: { $ref: '#/$defs/node' } } }],
    [
      'two definitions in a ring',
      { $defs: { a: { type: 'object', properties: { b: { $ref: '#/$defs/b' } } }, b: { type: 'object', properties: { a: { $ref: '#/$defs/a' } } } }, $ref: '#/$defs/a' }
    ]
  ])('%s', (_, schema) => {
    expect(
      unsupportedFeatures(schema)
        .map((i) => i.message)
        .join('\n')
    ).toMatch(/Recursive schemas are not supported/)
  })

  it('a definition used twice, or one referring to another, is not a loop', () => {
    const schema = {
      $defs: { name: { type: 'string' }, person: { type: 'object', properties: { first: { $ref: '#/$defs/name' }, last: { $ref: '#/$defs/name' } } } },
      type: 'object',
      properties: { author: { $ref: '#/$defs/person' }, editor: { $ref: '#/$defs/person' }, title: { $ref: '#/$defs/name' } }
    }
    expect(unsupportedFeatures(schema)).toEqual([])
  })
})

describe('attack: property names that Object.prototype also has', () => {
  const schema = {
    type: 'object',
    properties: { constructor: { type: 'string' }, toString: { type: 'string' }, a: { type: 'string' } },
    required: ['toString'],
    additionalProperties: false
  }

  it('a reply is judged on its own properties, not inherited ones', () => {
    const validator = new ReplyValidator([schema])
    // constructor is optional: leaving it out is fine.
    expect(validator.check(0, '{"toString":"t"}', 'end_turn', 100)).toEqual({ ok: true, value: { toString: 't' } })
    // toString is required: an object's inherited one does not count.
    expect(validator.check(0, '{"a":"x"}', 'end_turn', 100)).toEqual({ ok: false, message: expect.stringContaining("must have required property 'toString'") })
  })

  it('a property named __proto__ is refused: JSON Schema validators skip it, so replies could not be checked', () => {
    const proto = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}')
    expect(unsupportedFeatures(proto)).toEqual([{ at: ['properties', '__proto__'], message: expect.stringContaining('rename it') }])
  })
})

describe('attack: one schema shared by many prompts', () => {
  it('is compiled once, not once per prompt (2,000 prompts plan about as fast as without a schema)', async () => {
    const plain: Record<string, string> = {}
    const shared: Record<string, string> = {
      's.json': JSON.stringify({
        type: 'object',
        properties: { a: { type: 'string', enum: ['x', 'y'] }, b: { type: 'array', items: { type: 'object', properties: { c: { type: 'string' } } } } }
      })
    }
    for (let i = 0; i < 2000; i++) {
      plain[`p/${i}.md`] = `Hi ${i}\n`
      shared[`p/${i}.md`] = `---\nschema: ../s.json\n---\nHi ${i}\n`
    }
    const [a, b] = [await workspace(plain), await workspace(shared)]
    let t = performance.now()
    expect((await prompts(a, 'p/*.md')).requests).toHaveLength(2000)
    const without = performance.now() - t
    t = performance.now()
    const withSchema = await prompts(b, 'p/*.md')
    const taken = performance.now() - t
    expect(withSchema.problems).toEqual([])
    expect(withSchema.requests).toHaveLength(2000)
    // Compiling per prompt took ~7 ms each (15 s here, 45× the plain read).
    expect(taken).toBeLessThan(4 * without + 1500)
  }, 60000)
})
