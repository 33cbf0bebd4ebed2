/**
 * Structured output, end to end: the bundled action run as a process against the Batch API simulator,
 * which answers `output_config.format` with JSON that fits the schema (or, on a trigger, with a reply
 * that does not).
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { cp, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { makeWorkspace, ROOT, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

async function run(workspace: string, inputs: Record<string, string>): Promise<ActionRun> {
  simulator ??= await BatchSimulator.start()
  return runAction({
    workspace,
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2', 'wait-minutes': '1', 'lock-file': '', ...inputs }
  })
}

const read = (workspace: string, file: string) => readFile(path.join(workspace, file), 'utf8')
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false
  )

/** The params of every request the simulator received, by the custom_id's name part. */
function sent(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>()
  for (const batch of simulator!.batches()) for (const item of batch.requests) out.set(item.custom_id.replace(/^[^_]+_/, ''), item.params)
  return out
}

const TICKET_SCHEMA = {
  type: 'object',
  properties: {
    category: { type: 'string', enum: ['billing', 'shipping', 'product'] },
    urgent: { type: 'boolean' },
    summary: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } }
  },
  required: ['category', 'urgent', 'summary', 'tags'],
  additionalProperties: false
}

describe('structured output', () => {
  it('sends a front matter schema as output_config.format and writes the validated reply as .json', async () => {
    const workspace = await makeWorkspace({
      'prompts/extract.md': [
        '---',
        'schema:',
        '  type: object',
        '  properties:',
        '    name: { type: string }',
        '    email: { type: string, format: email }',
        '  required: [name, email]',
        '---',
        'Extract the contact: John Smith, john@example.com',
        ''
      ].join('\n'),
      'prompts/from-file.md': '---\nschema: ../schemas/ticket.json\n---\nClassify: my parcel is late\n',
      'schemas/ticket.json': JSON.stringify(TICKET_SCHEMA, null, 2)
    })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(0)
    expect(result.outputs.succeeded).toBe('2')

    const params = sent().get('extract')!
    // additionalProperties: false is added to every object, as the API requires.
    expect(params.output_config).toEqual({
      format: {
        type: 'json_schema',
        schema: { type: 'object', properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } }, required: ['name', 'email'], additionalProperties: false }
      }
    })
    const text = await read(workspace, 'generated/extract.json')
    expect(text).toMatch(/^\{\n {2}"name": /) // pretty JSON
    expect(Object.keys(JSON.parse(text))).toEqual(['name', 'email'])
    const ticket = JSON.parse(await read(workspace, 'generated/from-file.json'))
    expect(TICKET_SCHEMA.properties.category.enum).toContain(ticket.category)
    expect(typeof ticket.urgent).toBe('boolean')
    expect(await exists(path.join(workspace, 'generated/extract.md'))).toBe(false)
  })

  it('gives a data file one column per schema property, and the summary the spread of enum and boolean values', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `T-${i + 1},"Ticket number ${i + 1}, about ""things"""`)
    const workspace = await makeWorkspace({
      'data/tickets.csv': `id,subject\n${rows.join('\n')}\n`,
      'data/tickets.jsonl': '{"id":"J-1","subject":"Refund please"}\n{"id":"J-2","subject":"Broken lid"}\n',
      'templates/classify.md': '---\nmax_tokens: 300\n---\nClassify this ticket: {{subject}}\n',
      'schemas/ticket.json': JSON.stringify(TICKET_SCHEMA)
    })
    const result = await run(workspace, { prompts: '', data: 'data/tickets.csv', template: 'templates/classify.md', 'schema-file': 'schemas/ticket.json' })
    expect(result.exitCode).toBe(0)
    const csv = (await read(workspace, 'generated/tickets.csv')).trim().split('\n')
    expect(csv[0]).toBe('id,subject,category,urgent,summary,tags')
    expect(csv).toHaveLength(13)
    // Nested values are JSON text in a CSV cell.
    expect(csv[1]).toMatch(/^T-1,"Ticket number 1, about ""things""",(billing|shipping|product),(true|false),[^,]+,"\[""/)
    expect(result.summary).toContain('Values')
    expect(result.summary).toMatch(/<code>category<\/code>.*(billing|shipping|product) \d+%/s)
    expect(result.summary).toMatch(/<code>urgent<\/code>.*(true|false) \d+%/s)

    // JSONL keeps values native.
    const jsonl = await run(workspace, { prompts: '', data: 'data/tickets.jsonl', template: 'templates/classify.md', 'schema-file': 'schemas/ticket.json' })
    expect(jsonl.exitCode).toBe(0)
    const first = JSON.parse((await read(workspace, 'generated/tickets.jsonl')).split('\n')[0]!)
    expect(Object.keys(first)).toEqual(['id', 'subject', 'category', 'urgent', 'summary', 'tags'])
    expect(Array.isArray(first.tags)).toBe(true)
    expect(first.output).toBeUndefined()
  })

  it('counts a reply that is not JSON or does not fit as errored, annotates it and writes nothing for it', async () => {
    const workspace = await makeWorkspace({
      'prompts/good.md': '---\nschema: ../schema.json\n---\nClassify: late parcel\n',
      'prompts/garbled.md': '---\nschema: ../schema.json\n---\nClassify: SIMULATE_INVALID_JSON\n',
      'prompts/mismatch.md': '---\nschema: ../schema.json\n---\nClassify: SIMULATE_SCHEMA_MISMATCH\n',
      'prompts/short.md': '---\nschema: ../schema.json\nmax_tokens: 5\n---\nClassify: a long story\n',
      'schema.json': JSON.stringify(TICKET_SCHEMA)
    })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(1)
    expect(result.outputs.succeeded).toBe('1')
    expect(result.outputs.errored).toBe('3')
    expect(await exists(path.join(workspace, 'generated/good.json'))).toBe(true)
    for (const name of ['garbled', 'mismatch', 'short']) expect(await exists(path.join(workspace, `generated/${name}.json`))).toBe(false)
    const on = (file: string) => result.annotations.find((a) => a.level === 'error' && a.file === file)?.message ?? ''
    expect(on('prompts/garbled.md')).toMatch(/the reply is not JSON/)
    expect(on('prompts/mismatch.md')).toMatch(/does not fit the schema: \(the reply\) must have required property 'category'/)
    expect(on('prompts/short.md')).toMatch(/cut off: raise max_tokens \(5\)/)
    expect(JSON.parse(result.outputs['output-files']!)).toEqual(['generated/good.json'])
  })

  it('sends the jsonSchema of a .prompt.yml (JSON text, as gh-models writes it) with responseFormat json_schema', async () => {
    const workspace = await makeWorkspace({
      'prompts/sentiment.prompt.yml': [
        'messages:',
        '  - role: user',
        '    content: "How does this read: {{text}}"',
        'responseFormat: json_schema',
        'jsonSchema: |-',
        '  {',
        '    "name": "sentiment",',
        '    "strict": true,',
        '    "schema": {',
        '      "type": "object",',
        '      "properties": { "sentiment": { "type": "string", "enum": ["positive", "negative"] } },',
        '      "required": ["sentiment"],',
        '      "additionalProperties": false',
        '    }',
        '  }',
        'testData:',
        '  - { id: a, text: "I love it" }',
        ''
      ].join('\n')
    })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(0)
    const params = sent().get('sentiment-a')!
    expect((params.output_config as { format: { schema: unknown } }).format.schema).toEqual({
      type: 'object',
      properties: { sentiment: { type: 'string', enum: ['positive', 'negative'] } },
      required: ['sentiment'],
      additionalProperties: false
    })
    expect(JSON.parse(await read(workspace, 'generated/sentiment/a.json')).sentiment).toMatch(/^(positive|negative)$/)
  })

  it('refuses an invalid schema, or one structured outputs do not support, on its file and line before any batch', async () => {
    const workspace = await makeWorkspace({
      'prompts/typo.md': '---\nschema:\n  type: object\n  propertis:\n    a: { type: string }\n---\nHi\n',
      'prompts/ranged.md': '---\nschema: ../schemas/ranged.json\n---\nHi\n',
      'schemas/ranged.json': '{\n  "type": "object",\n  "properties": {\n    "age": { "type": "integer", "minimum": 0 }\n  }\n}\n',
      'prompts/broken.md': '---\nschema: ../schemas/broken.json\n---\nHi\n',
      'schemas/broken.json': '{\n  "type": "object",\n  "properties": {\n}\n'
    })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(0)
    const errors = result.annotations.filter((a) => a.level === 'error')
    expect(errors).toContainEqual(
      expect.objectContaining({ file: 'prompts/typo.md', line: 4, message: expect.stringMatching(/Unknown schema keyword "propertis". Did you mean "properties"\?/) })
    )
    expect(errors).toContainEqual(expect.objectContaining({ file: 'schemas/ranged.json', line: 4, message: expect.stringMatching(/do not support "minimum"/) }))
    expect(errors).toContainEqual(expect.objectContaining({ file: 'schemas/broken.json', message: expect.stringMatching(/not valid JSON/) }))
  })

  it('the ticket-classification example runs as the README shows', async () => {
    const workspace = await makeWorkspace()
    await cp(path.join(ROOT, 'examples/ticket-classification'), path.join(workspace, 'examples/ticket-classification'), { recursive: true })
    const result = await run(workspace, { prompts: '', data: 'examples/ticket-classification/tickets.csv', template: 'examples/ticket-classification/classify.md' })
    expect(result.exitCode).toBe(0)
    const lines = (await read(workspace, 'generated/tickets.csv')).trim().split('\n')
    expect(lines[0]).toBe('id,subject,body,category,urgent,summary,order_ids')
    expect(lines).toHaveLength(7)
  })

  it('collect later validates each reply against the schema the manifest carries', async () => {
    simulator = await BatchSimulator.start()
    const files = {
      'prompts/good.md': '---\nschema: ../schema.json\n---\nClassify: late parcel\n',
      'prompts/bad.md': '---\nschema: ../schema.json\n---\nClassify: SIMULATE_SCHEMA_MISMATCH\n',
      'schema.json': JSON.stringify(TICKET_SCHEMA)
    }
    const runnerTemp = await makeWorkspace()
    const inputs = { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'lock-file': '' }
    const submitted = await runAction({ workspace: await makeWorkspace(files), runnerTemp, inputs })
    expect(submitted.exitCode).toBe(0)
    // The schema file may be gone or changed by then: the manifest's copy is what replies are checked against.
    const workspace = await makeWorkspace({ ...files, 'schema.json': '{}' })
    const collected = await runAction({ workspace, runnerTemp, inputs: { ...inputs, command: 'collect' } })
    expect(collected.outputs.errored).toBe('1')
    expect(JSON.parse(await read(workspace, 'generated/good.json')).category).toMatch(/^(billing|shipping|product)$/)
    expect(await exists(path.join(workspace, 'generated/bad.json'))).toBe(false)
    expect(collected.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'prompts/bad.md', message: expect.stringMatching(/does not fit the schema/) }))
  })
})
