/**
 * Bad inputs, through dist/index.js as a runner runs it: each is a clear error on its file and line,
 * a failed step, and no batch; and nothing from a file name reaches the log as a workflow command.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { writeFile } from 'node:fs/promises'
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
    inputs: { 'anthropic-api-key': DEFAULT_API_KEY, 'anthropic-base-url': simulator.url, 'poll-interval-seconds': '0.2', ...inputs }
  })
}

const batchesCreated = () => simulator!.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/v1/messages/batches')).length
const errors = (r: ActionRun) => r.annotations.filter((a) => a.level === 'error')

/** The step failed with an error annotated on `file` (and `line`), and nothing was spent. */
function refused(result: ActionRun, file: string | undefined, line: number | undefined, message: RegExp): void {
  expect(result.exitCode).not.toBe(0)
  expect(errors(result)).toContainEqual(expect.objectContaining({ file, line, message: expect.stringMatching(message) }))
  expect(batchesCreated()).toBe(0)
}

describe('workflow-command injection', () => {
  it('a prompt file named with a line break and ::warning:: cannot start a command when its request errors', async () => {
    const name = 'x\n::warning::INJECTED.md'
    // Its own output path is clean (a control character there would be refused before anything is sent).
    const workspace = await makeWorkspace({ [`prompts/${name}`]: '---\noutput: generated/x.md\n---\nSIMULATE_ERROR:overloaded_error\n', 'prompts/ok.md': 'Hello\n' })
    const result = await run(workspace, { 'wait-minutes': '1' })
    // The run did reach the failure list that names the file.
    expect(result.outputs).toMatchObject({ status: 'ended', errored: '1', succeeded: '1' })
    expect(result.stdout).toContain('x\\n::warning::INJECTED.md')
    const commands = result.stdout.split('\n').filter((line) => line.trimStart().startsWith('::warning::INJECTED'))
    expect(commands).toEqual([])
    expect(result.annotations.filter((a) => a.message.startsWith('INJECTED'))).toEqual([])
  })
})

describe('bad inputs are refused before anything is spent', () => {
  it('a requests line whose messages are not objects', async () => {
    const ok = { model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] }
    const workspace = await makeWorkspace({
      'requests.jsonl': [JSON.stringify({ custom_id: 'a', params: ok }), JSON.stringify({ custom_id: 'b', params: { ...ok, messages: ['hi'] } })].join('\n')
    })
    const result = await run(workspace, { prompts: '', requests: 'requests.jsonl' })
    refused(result, 'requests.jsonl', 2, /^Line 2: "params\.messages\[0\]" must be an object/)
  })

  it("retention-days above GitHub's 90", async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hi\n' })
    refused(await run(workspace, { 'retention-days': '1000' }), undefined, undefined, /^Input retention-days: "1000" is not a whole number from 1 to 90\.$/)
  })

  it.each([
    ['UTF-16', Buffer.from('\uFEFFDescribe a teapot.\n', 'utf16le'), /saved as UTF-16.*save it as UTF-8\.$/],
    ['binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), /NUL bytes.*save it as UTF-8\.$/]
  ])('a %s prompt file', async (_kind, bytes, message) => {
    const workspace = await makeWorkspace({ 'prompts/good.md': 'Hi\n' })
    await writeFile(path.join(workspace, 'prompts', 'bad.md'), bytes)
    refused(await run(workspace, {}), 'prompts/bad.md', undefined, message)
  })

  it('a UTF-16 template', async () => {
    const workspace = await makeWorkspace({ 'data.csv': 'id,subject\n1,Lid\n' })
    await writeFile(path.join(workspace, 'template.md'), Buffer.from('\uFEFFClassify {{subject}}\n', 'utf16le'))
    refused(await run(workspace, { prompts: '', data: 'data.csv', template: 'template.md' }), 'template.md', undefined, /UTF-16.*save it as UTF-8/)
  })

  it('max-cost: abc is one error, not a second "exceeds max-cost ($0.00)"', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hi\n' })
    const result = await run(workspace, { 'max-cost': 'abc' })
    refused(result, undefined, undefined, /^Input max-cost: "abc" is not a number/)
    expect(errors(result).filter((a) => /max-cost/.test(a.message))).toHaveLength(1)
    expect(result.stdout).not.toContain('exceeds max-cost')
  })

  it("a prompt over its model's input-token limit", async () => {
    // ~225,000 tokens at the simulator's ~4 characters a token, for a 200,000-token model.
    const workspace = await makeWorkspace({ 'prompts/small.md': 'Hi\n', 'prompts/huge.md': `---\nmodel: claude-haiku-4-5\n---\n${'word '.repeat(180_000)}\n` })
    const result = await run(workspace, {})
    refused(result, 'prompts/huge.md', 4, /^This request is 225,\d{3} input tokens; claude-haiku-4-5 accepts 200,000: shorten it\.$/)
  })
})

describe('a run without an API key', () => {
  it('that is not a dry run reports only the missing key', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hi\n' })
    const result = await runAction({ workspace, inputs: {} })
    expect(result.exitCode).not.toBe(0)
    expect(result.annotations.map((a) => a.message).join('\n')).toMatch(/No Anthropic API key/)
    expect(result.stdout).not.toContain('Dry run without an API key')
  })
})
