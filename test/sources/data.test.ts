import { describe, it, expect } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { collect, context, workspace } from './helpers.js'
import { readSources } from '../../src/sources/index.js'
import type { PromptRequest } from '../../src/sources/types.js'

const TEMPLATE = '---\nmodel: claude-x\nsystem: You describe {{category}} products.\n---\nDescribe {{name}} in one line.\n'

function csv(rows: number): string {
  let text = 'id,name,category\n'
  for (let i = 1; i <= rows; i++) text += `p${i},Product ${i},cat${i % 7}\n`
  return text
}

describe('data + template', () => {
  it('sends one request per CSV row, with row lines, ids and data-row outputs', async () => {
    const ws = await workspace({
      'data/products.csv': '\uFEFFid,name,category\nw1,Widget,tools\n\n,"Multi\nline ""gadget""",toys\nw3,Gizmo,tools\n',
      'template.md': TEMPLATE
    })
    const { requests, problems } = await collect(ws, { data: 'data/products.csv', template: 'template.md' })
    expect(problems).toEqual([])
    expect(requests).toEqual([
      {
        key: 'products-w1',
        params: { model: 'claude-x', max_tokens: 1000, system: 'You describe tools products.', messages: [{ role: 'user', content: 'Describe Widget in one line.' }] },
        output: { kind: 'data-row', path: 'generated/products.csv', source: 'data/products.csv', format: 'csv', index: 0 },
        origin: { file: 'data/products.csv', line: 2, row: 1 }
      },
      {
        key: 'products-2',
        params: { model: 'claude-x', max_tokens: 1000, system: 'You describe toys products.', messages: [{ role: 'user', content: 'Describe Multi\nline "gadget" in one line.' }] },
        output: { kind: 'data-row', path: 'generated/products.csv', source: 'data/products.csv', format: 'csv', index: 1 },
        origin: { file: 'data/products.csv', line: 4, row: 2 }
      },
      {
        key: 'products-w3',
        params: { model: 'claude-x', max_tokens: 1000, system: 'You describe tools products.', messages: [{ role: 'user', content: 'Describe Gizmo in one line.' }] },
        output: { kind: 'data-row', path: 'generated/products.csv', source: 'data/products.csv', format: 'csv', index: 2 },
        origin: { file: 'data/products.csv', line: 6, row: 3 }
      }
    ])
  })

  it('streams a 50,000-row CSV: all rows in order, the first before the file is even complete', async () => {
    const ws = await workspace({ 'template.md': TEMPLATE })
    const fifo = path.join(ws, 'rows.csv')
    execFileSync('mkfifo', [fifo])
    const all = csv(50_000)
    const firstPart = all.slice(0, all.indexOf('\n', 100_000) + 1)
    const writer = createWriteStream(fifo)
    writer.write(firstPart)

    const ctx = context(ws)
    const started = Date.now()
    const sources = readSources({ prompts: [], promptsIsDefault: false, data: 'rows.csv', template: 'template.md' }, ctx)
    // The writer has not closed the pipe: a reader that wanted the whole file first would wait forever.
    let timer: NodeJS.Timeout | undefined
    const first = await Promise.race([
      sources.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no request before the end of the file: not streaming')), 5000)
      })
    ]).finally(() => clearTimeout(timer))
    expect((first.value as PromptRequest).key).toBe('rows-p1')
    writer.end(all.slice(firstPart.length))

    const keys = [(first.value as PromptRequest).key]
    const lines = [(first.value as PromptRequest).origin.line]
    for await (const r of sources) {
      keys.push(r.key)
      lines.push(r.origin.line)
    }
    expect(ctx.problems).toEqual([])
    expect(keys).toHaveLength(50_000)
    expect(keys.every((k, i) => k === `rows-p${i + 1}`)).toBe(true)
    expect(lines.every((l, i) => l === i + 2)).toBe(true)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('reads a 50,000-row CSV file quickly', async () => {
    const ws = await workspace({ 'rows.csv': csv(50_000), 'template.md': TEMPLATE })
    const started = Date.now()
    let count = 0
    let last: PromptRequest | undefined
    const ctx = context(ws)
    for await (const r of readSources({ prompts: [], promptsIsDefault: false, data: 'rows.csv', template: 'template.md' }, ctx)) {
      count++
      last = r
    }
    expect(ctx.problems).toEqual([])
    expect(count).toBe(50_000)
    expect(last!.output).toEqual({ kind: 'data-row', path: 'generated/rows.csv', source: 'rows.csv', format: 'csv', index: 49_999 })
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('reports a placeholder that is not a column on the template line, listing the columns', async () => {
    const ws = await workspace({
      'rows.csv': 'id,title\n1,A\n2,B\n',
      'template.md': '---\nmodel: m\n---\nTitle: {{title}}\n\nAudience: {{ audience }}\n'
    })
    const { requests, problems } = await collect(ws, { data: 'rows.csv', template: 'template.md' })
    expect(requests).toEqual([])
    expect(problems).toEqual([{ file: 'template.md', line: 6, message: 'Template variable "audience" is not a column of rows.csv. Available columns: "id", "title".' }])
  })

  it('refuses data that already has an output column or field', async () => {
    const ws = await workspace({
      'rows.csv': 'name,output\nA,old\n',
      'rows.jsonl': '{"name":"A"}\n{"name":"B","output":"old"}\n{"name":"C","output":"old"}\n',
      'template.md': 'Name {{name}}'
    })
    const fromCsv = await collect(ws, { data: 'rows.csv', template: 'template.md' })
    expect(fromCsv.problems).toEqual([{ file: 'rows.csv', line: 1, message: 'The data has a column named "output", where the results will be written: rename that column.' }])
    const fromJsonl = await collect(ws, { data: 'rows.jsonl', template: 'template.md' })
    expect(fromJsonl.problems).toEqual([
      { file: 'rows.jsonl', line: 2, message: 'Rows 2 and 3 already have a field named "output", where the results will be written: rename that field.' }
    ])
  })

  it('reads JSONL rows, skipping blank lines and reporting a line that is not a JSON object', async () => {
    const ws = await workspace({
      'data/items.jsonl': '{"id": 7, "name": "Seven", "tags": ["a", "b"]}\n\n{"name": "Eight"\n[1, 2]\n{"name": null, "tags": {"x": 1}}\n',
      'template.prompt.yml': 'model: m\nmessages:\n  - role: user\n    content: "{{name}} {{tags}}"\n'
    })
    const { requests, problems } = await collect(ws, { data: 'data/items.jsonl', template: 'template.prompt.yml' })
    expect(requests.map((r) => [r.key, r.params.messages[0]!.content, r.origin, r.output])).toEqual([
      [
        'items-7',
        'Seven ["a","b"]',
        { file: 'data/items.jsonl', line: 1, row: 1 },
        { kind: 'data-row', path: 'generated/items.jsonl', source: 'data/items.jsonl', format: 'jsonl', index: 0 }
      ],
      [
        'items-4',
        ' {"x":1}',
        { file: 'data/items.jsonl', line: 5, row: 4 },
        { kind: 'data-row', path: 'generated/items.jsonl', source: 'data/items.jsonl', format: 'jsonl', index: 3 }
      ]
    ])
    expect(problems.map((p) => [p.file, p.line])).toEqual([
      ['data/items.jsonl', 3],
      ['data/items.jsonl', 4]
    ])
    expect(problems[0]!.message).toMatch(/^Line 3 is not valid JSON \(.*\)\. Each line must be one JSON object\.$/)
    expect(problems[1]!.message).toBe('Line 4 is not a JSON object: each line must be one object such as {"id": "a", "text": "..."}.')
  })

  it('reports a field missing from JSONL rows once, with the first line and a count', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(i === 0 ? { text: 't', lang: 'en' } : { text: `t${i}` }))
    const ws = await workspace({ 'rows.jsonl': lines.join('\n'), 'template.md': '{{text}}\n\nin {{lang}}' })
    const { requests, problems } = await collect(ws, { data: 'rows.jsonl', template: 'template.md' })
    expect(requests).toHaveLength(1)
    expect(problems).toEqual([
      {
        file: 'rows.jsonl',
        line: 2,
        message:
          'Template variable "lang" (template.md:3) is missing from rows 2, 3, 4, 5, 6 and 994 more of rows.jsonl. Add "lang" to those rows or remove {{lang}} from the template. Fields in the first such row: "text".'
      }
    ])
  })

  it('reads a JSON array of objects with element lines, and refuses anything else', async () => {
    const ws = await workspace({
      'list.json': '[\n  {"id": "a", "q": "First"},\n  {\n    "q": "Second"\n  },\n  "oops"\n]\n',
      'object.json': '{"q": "x"}',
      'broken.json': '[\n{"q": 1},\n{"q": }\n]',
      'template.md': 'Q: {{q}}'
    })
    const list = await collect(ws, { data: 'list.json', template: 'template.md' })
    expect(list.requests.map((r) => [r.key, r.origin.line, r.params.messages[0]!.content])).toEqual([
      ['list-a', 2, 'Q: First'],
      ['list-2', 3, 'Q: Second']
    ])
    expect(list.problems).toEqual([
      { file: 'list.json', line: 6, message: 'Element 3 of the array is not an object: every element must be one object such as {"id": "a", "text": "..."}.' }
    ])
    const object = await collect(ws, { data: 'object.json', template: 'template.md' })
    expect(object.problems).toEqual([
      { file: 'object.json', line: 1, message: 'A .json data file must be an array of objects ([{...}, {...}]); use .jsonl for one object per line.' }
    ])
    const broken = await collect(ws, { data: 'broken.json', template: 'template.md' })
    expect(broken.problems).toHaveLength(1)
    expect(broken.problems[0]!.message).toMatch(/^Invalid JSON/)
  })

  it('reports CSV rows with the wrong number of fields and rows whose prompt is empty, skipping rows of empty fields', async () => {
    const ws = await workspace({ 'rows.csv': 'name,note\nA,x\nB,y,z\n,\n,blank\nC,5" screen\n', 'template.md': '{{name}}' })
    const { requests, problems } = await collect(ws, { data: 'rows.csv', template: 'template.md' })
    expect(requests.map((r) => r.params.messages[0]!.content)).toEqual(['A', 'C'])
    expect(problems).toEqual([
      { file: 'rows.csv', line: 3, message: 'This row has 3 fields but the header has 2 columns. Quote fields that contain commas ("like, this").' },
      { file: 'rows.csv', line: 5, message: "The prompt is empty for row 2: the template gives no text with this row's values." }
    ])
  })

  it('checks the template: no output key, no testData, a known file type', async () => {
    const ws = await workspace({
      'rows.csv': 'q\nA\n',
      'with-output.md': '---\noutput: x.md\n---\n{{q}}',
      'with-tests.prompt.yml': 'messages:\n  - role: user\n    content: "{{q}}"\ntestData:\n  - q: 1\n',
      'template.html': '<p>{{q}}</p>'
    })
    const output = await collect(ws, { data: 'rows.csv', template: 'with-output.md' })
    expect(output.problems).toEqual([
      {
        file: 'with-output.md',
        line: 2,
        message:
          'Front matter key "output" cannot be used in a template: each row\'s result goes into that row\'s "output" field in the copy of the data file under output-dir. Remove it.'
      }
    ])
    const tests = await collect(ws, { data: 'rows.csv', template: 'with-tests.prompt.yml' })
    expect(tests.problems).toEqual([
      {
        file: 'with-tests.prompt.yml',
        line: 4,
        message: 'A template cannot have testData: its rows come from the data input. Remove testData, or list this file in the prompts input instead.'
      }
    ])
    const html = await collect(ws, { data: 'rows.csv', template: 'template.html' })
    expect(html.problems).toEqual([{ file: 'template.html', message: 'The template input must name a prompt file (.md, .txt or .prompt.yml), not "template.html".' }])
  })

  it('needs both data and template, existing files and a known data format', async () => {
    const ws = await workspace({ 'rows.csv': 'q\nA\n', 'rows.xlsx': 'binary', 'template.md': '{{q}}' })
    expect((await collect(ws, { data: 'rows.csv' })).problems).toEqual([
      { message: 'Input data is set but template is not: set template to the prompt file to fill with each row.' }
    ])
    expect((await collect(ws, { template: 'template.md' })).problems).toEqual([
      { message: 'Input template is set but data is not: set data to the CSV, JSONL or JSON file whose rows fill the template.' }
    ])
    expect((await collect(ws, { data: 'nope.csv', template: 'missing.md' })).problems).toEqual([
      { message: 'Input data: "nope.csv" does not exist. Check the path (it is relative to the repository root).' },
      { message: 'Input template: "missing.md" does not exist. Check the path (it is relative to the repository root).' }
    ])
    expect((await collect(ws, { data: 'rows.xlsx', template: 'template.md' })).problems).toEqual([
      {
        file: 'rows.xlsx',
        message: 'Input data: "rows.xlsx" is not a data file. Use .csv (with a header row), .jsonl (one JSON object per line) or .json (an array of objects).'
      }
    ])
    expect((await collect(ws, { data: '../rows.csv', template: 'template.md' })).problems).toEqual([
      { message: 'Input data: "../rows.csv" leaves the workspace: paths must stay inside the repository.' }
    ])
  })

  it('warns about a data file without rows and reports one without a header', async () => {
    const ws = await workspace({ 'header.csv': 'q\n', 'empty.csv': '', 'template.md': '{{q}}' })
    const header = await collect(ws, { data: 'header.csv', template: 'template.md' })
    expect(header.problems).toEqual([])
    expect(header.warnings).toEqual([{ file: 'header.csv', message: 'The data file has no rows, so it gives no requests.' }])
    await writeFile(path.join(ws, 'empty.csv'), '')
    const empty = await collect(ws, { data: 'empty.csv', template: 'template.md' })
    expect(empty.problems).toEqual([{ file: 'empty.csv', line: 1, message: 'The CSV file is empty: it needs a header row naming the columns, then one row per prompt.' }])
  })
})
