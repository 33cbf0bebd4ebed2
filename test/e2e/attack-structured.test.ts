/**
 * Structured output against a hostile or careless repository: schema property names that are not
 * ordinary identifiers, and hostile text on its way into the job summary.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../support/simulator.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

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

describe('attack: schema property names', () => {
  it('a property named constructor is a column like any other; one named __proto__ is refused before any batch', async () => {
    const workspace = await makeWorkspace({
      'data/t.csv': 'id,subject\n1,a\n2,b\n',
      'data/t.jsonl': '{"id":1,"subject":"a"}\n{"id":2,"subject":"b"}\n',
      'templates/c.md': 'Classify: {{subject}}\n',
      's.json':
        '{"type":"object","properties":{"constructor":{"type":"string","enum":["a","b"]},"toString":{"type":"boolean"}},"required":["constructor","toString"],"additionalProperties":false}',
      // Written as text: in an object literal, __proto__ would set the prototype instead.
      'proto.json': '{\n  "type": "object",\n  "properties": {\n    "__proto__": {"type": "string"}\n  }\n}\n'
    })
    const csv = await run(workspace, { prompts: '', data: 'data/t.csv', template: 'templates/c.md', 'schema-file': 's.json' })
    expect(csv.exitCode).toBe(0)
    const lines = (await read(workspace, 'generated/t.csv')).trim().split('\n')
    expect(lines[0]).toBe('id,subject,constructor,toString')
    expect(lines[1]).toMatch(/^1,a,(a|b),(true|false)$/)
    const jsonl = await run(workspace, { prompts: '', data: 'data/t.jsonl', template: 'templates/c.md', 'schema-file': 's.json' })
    expect(jsonl.exitCode).toBe(0)
    expect((await read(workspace, 'generated/t.jsonl')).split('\n')[0]).toMatch(/^\{"id":1,"subject":"a","constructor":"(a|b)","toString":(true|false)\}$/)

    const batches = simulator!.batches().length
    const proto = await run(workspace, { prompts: '', data: 'data/t.jsonl', template: 'templates/c.md', 'schema-file': 'proto.json' })
    expect(proto.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(batches)
    expect(proto.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'proto.json', line: 4, message: expect.stringContaining('"__proto__"') }))
  }, 30000)
})
