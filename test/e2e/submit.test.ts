/**
 * The bundled action, run as a separate process the way a runner runs it (INPUT_* variables,
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, a temp workspace), against the Batch API simulator.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFile, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY, type SimulatorOptions } from '../support/simulator.js'
import { makeWorkspace, runAction, type ActionRun } from '../support/run-action.js'

let simulator: BatchSimulator | undefined
afterEach(async () => {
  await simulator?.close()
  simulator = undefined
})

async function start(options: SimulatorOptions = {}): Promise<BatchSimulator> {
  simulator = await BatchSimulator.start(options)
  return simulator
}

/** Runs the action with the simulator's key and URL and fast polling, plus the given inputs. */
async function run(workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: {
      'anthropic-api-key': DEFAULT_API_KEY,
      'anthropic-base-url': simulator!.url,
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    env
  })
}

/** The log as a runner shows it: `::add-mask::` commands are consumed by the runner, never shown. */
const log = (run: ActionRun) =>
  (run.stdout + run.stderr)
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')

const read = (workspace: string, file: string) => readFile(path.join(workspace, file), 'utf8')
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false
  )

const PRODUCT = `---
max_tokens: 300
system: You write product copy.
---
Describe a teapot.
`

describe('submit, waiting for the end', () => {
  it('runs every prompt source and writes each result where it belongs', async () => {
    await start()
    const workspace = await makeWorkspace({
      'prompts/products/teapot.md': PRODUCT,
      'prompts/products/kettle.txt': 'Describe a kettle.\n',
      'prompts/special.md': '---\noutput: site/special.md\n---\nDescribe a mug.\n',
      'prompts/i18n/tagline.prompt.yml': [
        'model: claude-haiku-4-5',
        'modelParameters: { maxTokens: 100, temperature: 0.3 }',
        'messages:',
        '  - role: system',
        '    content: Translate.',
        '  - role: user',
        '    content: "Into {{language}}: good morning"',
        'testData:',
        '  - { id: fr, language: French }',
        '  - { language: German }'
      ].join('\n'),
      'data/tickets.csv': 'id,subject\nA1,Broken lid\nA2,"Late, again"\n',
      'templates/classify.md': '---\nmax_tokens: 50\n---\nClassify: {{subject}}\n',
      'requests.jsonl': JSON.stringify({ custom_id: 'ready-1', params: { model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] } }) + '\n'
    })
    const result = await run(workspace, {
      data: 'data/tickets.csv',
      template: 'templates/classify.md',
      requests: 'requests.jsonl',
      'wait-minutes': '1'
    })

    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'ended', 'request-count': '8', succeeded: '8', errored: '0' })
    expect(JSON.parse(result.outputs['batch-ids']!)).toEqual([result.outputs['batch-id']])
    expect(simulator!.batches()).toHaveLength(1)

    const files = JSON.parse(result.outputs['output-files']!) as string[]
    expect(files.sort()).toEqual(
      [
        'generated/products/teapot.md',
        'generated/products/kettle.txt',
        'site/special.md',
        'generated/i18n/tagline/fr.md',
        'generated/i18n/tagline/2.md',
        'generated/tickets.csv',
        'generated/requests/ready-1.md',
        // Pay once: the lock records what produced each of them.
        'claude-batch.lock.json'
      ].sort()
    )
    expect(await read(workspace, 'generated/products/teapot.md')).toMatch(/teapot/i)
    // The simulator's replies quote the prompt, so each file must hold its own prompt's answer.
    expect(await read(workspace, 'generated/i18n/tagline/fr.md')).toMatch(/French/)
    const csv = await read(workspace, 'generated/tickets.csv')
    expect(csv.split('\n')[0]).toBe('id,subject,output')
    expect(csv).toMatch(/^A1,Broken lid,/m)
    expect(csv).toMatch(/^A2,"Late, again",/m)

    // The temperature in the .prompt.yml is not sent, with a warning on its line.
    const submitted = simulator!.batches()[0]!.requests
    expect(submitted.every((r) => !('temperature' in (r.params as object)))).toBe(true)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'warning', file: 'prompts/i18n/tagline.prompt.yml', line: 2 }))

    // Raw results: one line per request, matched by custom_id whatever their order.
    const raw = (await readFile(result.outputs['results-file']!, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(raw.map((l) => l.custom_id).sort()).toEqual(submitted.map((r) => r.custom_id).sort())

    expect(Number(result.outputs['cost-usd'])).toBeGreaterThan(0)
    expect(Number(result.outputs['estimated-cost-usd'])).toBeGreaterThanOrEqual(Number(result.outputs['cost-usd']))
    expect(result.summary).toContain('Succeeded')
    expect(result.summary).toMatch(/saved \$/)
  })

  it('gives the same custom_ids on every run', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a/one.md': 'One.\n', 'prompts/b/two.md': 'Two.\n' })
    await run(workspace, {})
    await run(workspace, {})
    const [first, second] = simulator!.batches()
    // Readable, and after each submission's own tag, which proves whose batch it is.
    const [tagA, tagB] = [first!.customIds[0]!.slice(0, 8), second!.customIds[0]!.slice(0, 8)]
    expect(tagA).not.toBe(tagB)
    expect(first!.customIds.sort()).toEqual([`${tagA}_a-one`, `${tagA}_b-two`])
    expect(second!.customIds.map((id) => id.slice(9)).sort()).toEqual(first!.customIds.map((id) => id.slice(9)).sort())
  })

  it('splits work over the API limits into several batches and collects them all', async () => {
    await start()
    const files = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`prompts/p${i}.md`, `Prompt ${i}.\n`]))
    const workspace = await makeWorkspace(files)
    const result = await run(workspace, { 'wait-minutes': '1' }, { CLAUDE_BATCH_TEST_MAX_REQUESTS: '2' })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs['batch-ids']!)).toHaveLength(3)
    expect(simulator!.batches().map((b) => b.requestCount)).toEqual([2, 2, 1])
    expect(result.outputs).toMatchObject({ status: 'ended', succeeded: '5' })
  })

  it('tolerates the brief 404 that can follow a create', async () => {
    await start({ notFoundAfterCreate: 2 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('ended')
  })
})

describe('submit without waiting, or out of time', () => {
  it('returns at once with the batch id when wait-minutes is 0', async () => {
    await start({ processingMs: 60_000 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'in_progress', 'batch-id': simulator!.batches()[0]!.id })
    expect(await exists(path.join(workspace, 'generated'))).toBe(false)
  })

  it('succeeds with status in_progress when the wait runs out first', async () => {
    await start({ processingMs: 60_000 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, { 'wait-minutes': '0.03' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('in_progress')
    expect(JSON.parse(result.outputs['batch-ids']!)).toEqual([simulator!.batches()[0]!.id])
    expect(result.stdout).toMatch(/in progress · 0 of 1 done/)
    expect(await exists(path.join(workspace, 'generated/a.md'))).toBe(false)
  })
})

describe('errored requests', () => {
  const workspace = () =>
    makeWorkspace({
      'prompts/good.md': 'Say hello.\n',
      'prompts/bad.md': '---\nmax_tokens: 20\n---\nThis one fails. SIMULATE_ERROR:overloaded_error\n',
      'prompts/late.md': 'And this one expires. SIMULATE_EXPIRE\n'
    })

  it('writes what succeeded, annotates the failures on their files, then fails the step', async () => {
    await start()
    const ws = await workspace()
    const result = await run(ws, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(1)
    expect(result.outputs).toMatchObject({ status: 'ended', succeeded: '1', errored: '1', expired: '1' })
    expect(await read(ws, 'generated/good.md')).toMatch(/hello/i)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'prompts/bad.md', line: 4, message: expect.stringMatching(/overloaded_error/) }))
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'prompts/late.md', message: expect.stringMatching(/expired/) }))
    expect(result.summary).toMatch(/errored: overloaded_error/)
    expect(result.stdout).toMatch(/::error::2 requests of 3 did not succeed/)
  })

  it('passes with fail-on-error false, keeping the failures visible as warnings', async () => {
    await start()
    const result = await run(await workspace(), { 'wait-minutes': '1', 'fail-on-error': 'false' })
    expect(result.exitCode).toBe(0)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'warning', file: 'prompts/bad.md' }))
  })
})

describe('a lost create answer', () => {
  it('finds the batch the lost create made instead of creating a second', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer' })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches()).toHaveLength(1)
    expect(result.outputs['batch-id']).toBe(simulator!.batches()[0]!.id)
    expect(result.stdout).toMatch(/answer to create was lost/)
    expect(result.outputs.status).toBe('ended')
  })

  it('also after a 5xx answer given once the batch was made', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer', status: 529 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n', 'prompts/b.md': 'Bye.\n' })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches()).toHaveLength(1)
  })

  it('finds the batch when create timed out while the API was still making it', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'delay', ms: 3_000 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, {}, { CLAUDE_BATCH_TEST_CREATE_TIMEOUT_MS: '1000' })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/answer to create was lost \(the API did not answer in time/)
    expect(simulator!.batches()).toHaveLength(1)
    expect(result.outputs['batch-id']).toBe(simulator!.batches()[0]!.id)
  })

  it('sends create again when the failed attempt made nothing', async () => {
    await start()
    simulator!.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'status', status: 500 })
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, {})
    expect(result.exitCode).toBe(0)
    expect(simulator!.batches()).toHaveLength(1)
    expect(result.stdout).toMatch(/No batch was made; sending create again/)
  })
})

describe('dry run and budget', () => {
  it('dry-run checks and estimates, puts the plan in the summary, and sends nothing', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': PRODUCT, 'prompts/b.md': 'Describe a cup.\n' })
    const result = await run(workspace, { 'dry-run': 'true' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'dry-run', 'request-count': '2' })
    expect(Number(result.outputs['estimated-cost-usd'])).toBeGreaterThan(0)
    expect(simulator!.batches()).toHaveLength(0)
    expect(result.summary).toContain('Dry run')
    expect(result.summary).toMatch(/<code>[a-z2-9]{8}_a<\/code>/)
    expect(result.summary).toContain('generated/b.md')
    // A small run is counted exactly, one count_tokens call per request.
    expect(simulator!.calls.filter((c) => c.path.startsWith('/v1/messages/count_tokens'))).toHaveLength(2)
  })

  it('samples count_tokens for a large run instead of one call per request', async () => {
    await start()
    const rows = Array.from({ length: 300 }, (_, i) => `${i},Ticket number ${i} ${'words '.repeat(i % 7)}`).join('\n')
    const workspace = await makeWorkspace({ 'd.csv': `id,text\n${rows}\n`, 't.md': 'Classify: {{text}}\n' })
    const result = await run(workspace, { 'dry-run': 'true', data: 'd.csv', template: 't.md' })
    expect(result.exitCode).toBe(0)
    const counts = simulator!.calls.filter((c) => c.path.startsWith('/v1/messages/count_tokens')).length
    expect(counts).toBeGreaterThan(0)
    expect(counts).toBeLessThanOrEqual(20)
  })

  it('dry-run works without an API key, saying what it could not check', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await runAction({ workspace, inputs: { 'dry-run': 'true' } })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('dry-run')
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/without an API key/) }))
  })

  it('refuses to submit when the estimate exceeds max-cost', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': '---\nmax_tokens: 64000\n---\nWrite a long story.\n' })
    const result = await run(workspace, { 'max-cost': '0.01' })
    expect(result.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(0)
    expect(result.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/exceeds max-cost/) }))
    expect(Number(result.outputs['estimated-cost-usd'])).toBeGreaterThan(0.01)
  })
})

describe('bad input is refused before anything is spent', () => {
  it('reports every problem at once, each on its file and line, and creates no batch', async () => {
    await start()
    const workspace = await makeWorkspace({
      'prompts/front-matter.md': '---\nmodel: [unclosed\n---\nHi\n',
      'prompts/unknown-key.md': '---\nmax_tokens: 10\ntemperature: 0.5\n---\nHi\n',
      'prompts/empty.md': '---\nmax_tokens: 10\n---\n\n',
      'prompts/bad.prompt.yml': 'model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: Hi {{name}}\nwrongKey: 1\n',
      'prompts/dup-a.md': '---\noutput: out/same.md\n---\nA\n',
      'prompts/dup-b.md': '---\noutput: out/same.md\n---\nB\n',
      'prompts/escape.md': '---\noutput: ../outside.md\n---\nC\n',
      'prompts/unknown-model.md': '---\nmodel: claude-does-not-exist-9\n---\nD\n',
      'prompts/retired-model.md': '---\nmodel: claude-3-5-haiku-20241022\n---\nE\n',
      'prompts/too-many-tokens.md': '---\nmax_tokens: 9999999\n---\nF\n',
      'prompts/thinking.md': '---\nmax_tokens: 4000\nparams:\n  thinking: { type: adaptive }\n---\nThink about G.\n',
      'prompts/thinking-ok.md': '---\nmax_tokens: 4000\nparams:\n  thinking: { type: enabled, budget_tokens: 2000 }\n---\nThink about H.\n',
      'data.csv': 'id,subject\n1,Lid\n',
      'template.md': 'Classify {{subject}} from {{customer}}\n'
    })
    const result = await run(workspace, { prompts: 'prompts/**/*\nnothing-here/*.md', data: 'data.csv', template: 'template.md' })

    expect(result.exitCode).toBe(1)
    expect(simulator!.batches()).toHaveLength(0)
    expect(simulator!.calls.some((c) => c.method === 'POST' && c.path === '/v1/messages/batches')).toBe(false)
    // GitHub shows 10 errors a step: the problems of no file and the failure, then files in path order,
    // and a closing count; the job summary lists every one, each on its file and line.
    const errors = result.annotations.filter((a) => a.level === 'error')
    expect(errors).toHaveLength(10)
    expect(errors.filter((a) => !a.file)[1]!.message).toMatch(/problems found; nothing was submitted/)
    expect(errors[9]!.message).toMatch(/^…and \d+ more errors: see the job summary\.$/)
    const on = (file: string, pattern: RegExp, line?: number) =>
      expect(result.summary).toMatch(
        new RegExp(
          `<code>${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${line ? `:${line}` : '(:\\d+)?'}</code></td><td>[^<]*</td><td>[^\n]*${pattern.source.replace(/"/g, '&quot;')}`,
          pattern.flags
        )
      )
    on('prompts/front-matter.md', /./, 2)
    on('prompts/unknown-key.md', /temperature/, 3)
    on('prompts/empty.md', /empty/i)
    on('prompts/bad.prompt.yml', /wrongKey/, 5)
    on('prompts/bad.prompt.yml', /name/)
    on('prompts/dup-b.md', /out\/same\.md/)
    on('prompts/escape.md', /outside the workspace/)
    on('prompts/unknown-model.md', /claude-does-not-exist-9/)
    on('prompts/retired-model.md', /retired/)
    on('prompts/too-many-tokens.md', /max_tokens 9999999 is above the limit of 64000/)
    on('template.md', /customer/, 1)
    on('prompts/thinking.md', /does not accept thinking of type "adaptive"/, 6)
    expect(errors.filter((e) => e.file === 'prompts/thinking-ok.md')).toEqual([])
    expect(errors).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/nothing-here\/\*\.md/) }))
    expect(result.stdout).toMatch(/::error::\d+ problems found; nothing was submitted/)
    expect(result.summary).toContain('Problems')
  })

  it('refuses a request too big for any batch', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/huge.md': `${'x'.repeat(5000)}\n`, 'prompts/small.md': 'Hi.\n' })
    const result = await run(workspace, {}, { CLAUDE_BATCH_TEST_MAX_BYTES: '2000' })
    expect(result.exitCode).toBe(1)
    expect(result.annotations).toContainEqual(expect.objectContaining({ file: 'prompts/huge.md', message: expect.stringMatching(/cannot be sent even on its own/) }))
    expect(simulator!.batches()).toHaveLength(0)
  })

  it('fails clearly without an API key', async () => {
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await runAction({ workspace, inputs: {} })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/No Anthropic API key/)
  })

  it('reports a rejected API key, and never prints the key', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const key = 'sk-ant-api03-wrong-key-do-not-print'
    const result = await run(workspace, { 'anthropic-api-key': key })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/rejected the API key/)
    expect(simulator!.batches()).toHaveLength(0)
    expect(log(result) + result.summary + JSON.stringify(result.outputs)).not.toContain(key)
  })

  it('says so when the default prompts folder is empty and nothing else is given', async () => {
    await start()
    const result = await run(await makeWorkspace({ 'README.md': 'hi' }), {})
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/no prompts found/i)
  })
})

describe('secrets', () => {
  it('never writes the API key to outputs, summary, generated files or results', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hello.\n' })
    const result = await run(workspace, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    const everything = [log(result), result.summary, JSON.stringify(result.outputs), await readFile(result.outputs['results-file']!, 'utf8')]
    for (const file of await readdir(path.join(workspace, 'generated'), { recursive: true })) {
      everything.push(await readFile(path.join(workspace, 'generated', file)).then(String, () => ''))
    }
    for (const text of everything) expect(text).not.toContain(DEFAULT_API_KEY)
  })
})

describe('results', () => {
  it('starts a results stream again when it is cut midway, without duplicating lines', async () => {
    await start()
    simulator!.injectFault({ method: 'GET', path: /\/results$/, kind: 'cut-stream', afterLines: 2 })
    const files = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`prompts/p${i}.md`, `Prompt ${i}.\n`]))
    const workspace = await makeWorkspace(files)
    const result = await run(workspace, { 'wait-minutes': '1' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.succeeded).toBe('4')
    const lines = (await readFile(result.outputs['results-file']!, 'utf8')).trim().split('\n')
    expect(lines).toHaveLength(4)
  })

  it('carries 100,000 requests and their results through a 160 MB heap', async () => {
    await start()
    const rows = Array.from({ length: 100_000 }, (_, i) => `${i + 1},Ticket number ${i + 1}`).join('\n')
    const workspace = await makeWorkspace({ 'tickets.csv': `id,subject\n${rows}\n`, 'classify.md': '---\nmax_tokens: 5\n---\nClassify: {{subject}}\n' })
    const result = await run(workspace, { prompts: '', data: 'tickets.csv', template: 'classify.md', 'wait-minutes': '5' }, { NODE_OPTIONS: '--max-old-space-size=160' })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'ended', succeeded: '100000' })
    expect(simulator!.batches()).toHaveLength(1)
    const out = (await read(workspace, 'generated/tickets.csv')).trimEnd().split('\n')
    expect(out[0]).toBe('id,subject,output')
    expect(out[1]).toMatch(/^1,Ticket number 1,/)
    expect(out.filter((l) => /^\d+,Ticket number/.test(l))).toHaveLength(100_000)
    expect(simulator!.calls.filter((c) => c.path.startsWith('/v1/messages/count_tokens')).length).toBeLessThanOrEqual(20)
  }, 180_000)
})

describe('inputs', () => {
  it('applies model, max-tokens, system-prompt-file, output-dir and model-prices', async () => {
    await start()
    const workspace = await makeWorkspace({
      'prompts/a.md': 'Describe a spoon.\n',
      'prompts/b.md': '---\nsystem: Be brief.\n---\nDescribe a fork.\n',
      'config/system.txt': 'You are a catalogue writer.\n'
    })
    const inputs = { model: 'claude-sonnet-4-6', 'max-tokens': '50', 'system-prompt-file': 'config/system.txt', 'output-dir': 'out/text' }
    const tablePrice = await run(workspace, { ...inputs, 'dry-run': 'true' })
    const priced = await run(workspace, { ...inputs, 'model-prices': '{"claude-sonnet-4-6": {"input": 300, "output": 1500}}', 'wait-minutes': '1' })
    expect(priced.exitCode).toBe(0)
    // A hundred times the table's price ($3 / $15) gives a hundred times the estimate.
    expect(Number(priced.outputs['estimated-cost-usd']) / Number(tablePrice.outputs['estimated-cost-usd'])).toBeCloseTo(100, 0)
    const [a, b] = simulator!.batches()[0]!.requests.map((r) => r.params as Record<string, unknown>)
    expect(a).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 50, system: 'You are a catalogue writer.' })
    expect(b).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 50, system: 'Be brief.' })
    expect(JSON.parse(priced.outputs['output-files']!)).toEqual(['claude-batch.lock.json', 'out/text/a.md', 'out/text/b.md'])
  })

  it('refuses an output-dir outside the workspace and unreadable numbers, all at once', async () => {
    await start()
    const workspace = await makeWorkspace({ 'prompts/a.md': 'Hi.\n' })
    const result = await run(workspace, { 'output-dir': '../elsewhere', 'wait-minutes': 'soon', 'max-tokens': '0' })
    expect(result.exitCode).toBe(1)
    const messages = result.annotations.filter((a) => a.level === 'error').map((a) => a.message)
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/output-dir/), expect.stringMatching(/wait-minutes/), expect.stringMatching(/max-tokens/)]))
    expect(simulator!.batches()).toHaveLength(0)
  })
})
