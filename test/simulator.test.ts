/**
 * The Batch API simulator, driven by the real SDK (and by raw fetch where the SDK can't express a call).
 * Other tests trust the simulator to behave like the real service, so these pin its behaviour to batch-api.md.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { Anthropic, AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk'
import type { BatchCreateParams, MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches'
import type { Message } from '@anthropic-ai/sdk/resources/messages'
import { BatchSimulator, DEFAULT_API_KEY, type SimulatorOptions } from './support/simulator.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const RAW_HEADERS = { 'x-api-key': DEFAULT_API_KEY, 'anthropic-version': '2023-06-01' }
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

let sim: BatchSimulator | undefined

afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function start(options: SimulatorOptions = {}): Promise<{ sim: BatchSimulator; client: Anthropic }> {
  sim = await BatchSimulator.start(options)
  return { sim, client: new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url }) }
}

/** A clock the test moves by hand. */
function fakeClock(startIso = '2026-11-24T12:00:00Z'): { now: () => number; advance: (ms: number) => void } {
  let time = Date.parse(startIso)
  return { now: () => time, advance: (ms) => (time += ms) }
}

type Request = BatchCreateParams.Request

/** A batch item; `extra` may hold params the SDK types forbid, on purpose. */
function item(customId: string, text: string, extra: Record<string, unknown> = {}): Request {
  const params = { model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: text }], ...extra }
  return { custom_id: customId, params: params as Request['params'] }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

async function apiFailure(promise: Promise<unknown>): Promise<APIError> {
  const error = await failure(promise)
  if (!(error instanceof APIError)) throw error
  return error
}

async function collect(iterable: AsyncIterable<MessageBatchIndividualResponse>) {
  const rows: MessageBatchIndividualResponse[] = []
  for await (const row of iterable) rows.push(row)
  return rows
}

function succeeded(row: MessageBatchIndividualResponse | undefined): Message {
  if (row?.result.type !== 'succeeded') throw new Error(`expected a succeeded row, got ${JSON.stringify(row)}`)
  return row.result.message
}

function byId(rows: MessageBatchIndividualResponse[]): Map<string, MessageBatchIndividualResponse['result']> {
  return new Map(rows.map((row) => [row.custom_id, row.result]))
}

function expectCountsAddUp(batch: MessageBatch, total: number): void {
  const { processing, succeeded, errored, canceled, expired } = batch.request_counts
  expect(processing + succeeded + errored + canceled + expired).toBe(total)
}

describe('batch lifecycle', () => {
  it('creates, ends and returns every result once, in a shuffled order', async () => {
    const { sim, client } = await start()
    const items = ['a', 'b', 'c', 'd', 'e'].map((id) => item(`req-${id}`, `Explain topic ${id} in two sentences.`))

    const created = await client.messages.batches.create({ requests: items })
    expect(created).toEqual({
      id: expect.stringMatching(/^msgbatch_[A-Za-z0-9]{24}$/),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: 5, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: expect.stringMatching(TIMESTAMP),
      expires_at: expect.stringMatching(TIMESTAMP),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null
    })
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(DAY)

    const ended = await client.messages.batches.retrieve(created.id)
    expect(ended.processing_status).toBe('ended')
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 5, errored: 0, canceled: 0, expired: 0 })
    expect(ended.ended_at).toMatch(TIMESTAMP)
    expect(ended.results_url).toBe(`${sim.url}/v1/messages/batches/${created.id}/results`)

    const rows = await collect(await client.messages.batches.results(created.id))
    const ids = rows.map((row) => row.custom_id)
    expect([...ids].sort()).toEqual(items.map((i) => i.custom_id))
    expect(ids).not.toEqual(items.map((i) => i.custom_id))

    const message = succeeded(rows.find((row) => row.custom_id === 'req-c'))
    expect(message).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        service_tier: 'batch',
        inference_geo: 'not_available'
      }
    })
    const [block] = message.content
    expect(block?.type === 'text' && block.text).toMatch(/^\[Simulated reply from claude-haiku-4-5-20251001\] Re: "Explain topic c/)
    expect(message.usage.input_tokens).toBeGreaterThan(0)
    expect(message.usage.output_tokens).toBeGreaterThan(0)
    expect(message.usage.output_tokens).toBeLessThanOrEqual(1024)
  })

  it('gives the same text for the same prompt, in another batch', async () => {
    const { client } = await start()
    const texts = async (requests: Request[]) => {
      const { id } = await client.messages.batches.create({ requests })
      await client.messages.batches.retrieve(id)
      const rows = await collect(await client.messages.batches.results(id))
      return new Map(rows.map((row) => [row.custom_id, JSON.stringify(succeeded(row).content)]))
    }
    const first = await texts([item('x', 'Summarise the water cycle.'), item('y', 'Name three prime numbers.')])
    const second = await texts([item('other-id', 'Summarise the water cycle.')])
    expect(second.get('other-id')).toBe(first.get('x'))
    expect(first.get('x')).not.toBe(first.get('y'))
  })

  it('cuts the text at max_tokens and says so', async () => {
    const { client } = await start()
    const { id } = await client.messages.batches.create({
      requests: [item('short', 'Tell me a long story about lighthouses.', { max_tokens: 5 })]
    })
    await client.messages.batches.retrieve(id)
    const [row] = await collect(await client.messages.batches.results(id))
    const message = succeeded(row)
    expect(message.stop_reason).toBe('max_tokens')
    expect(message.usage.output_tokens).toBe(5)
  })

  it('streams results as newline-terminated JSONL without blank lines', async () => {
    const { client } = await start()
    const { id } = await client.messages.batches.create({ requests: [item('one', 'Hi'), item('two', 'Hello')] })
    const { results_url: url } = await client.messages.batches.retrieve(id)
    const response = await fetch(url!, { headers: RAW_HEADERS })
    expect(response.headers.get('content-type')).toBe('application/x-jsonl')
    expect(response.headers.get('request-id')).toMatch(/^req_/)
    const body = await response.text()
    expect(body.endsWith('\n')).toBe(true)
    expect(body.split('\n')).toHaveLength(3)
    expect(body).not.toMatch(/\n\n/)
  })

  it('answers 404 for results while in progress, and the SDK refuses before asking', async () => {
    const clock = fakeClock()
    const { sim, client } = await start({ now: clock.now, processingMs: HOUR })
    const { id } = await client.messages.batches.create({ requests: [item('a', 'Hi')] })

    const early = await failure(client.messages.batches.results(id))
    expect(early).toBeInstanceOf(AnthropicError)
    expect((early as Error).message).toContain('No batch `results_url`')

    const raw = await fetch(`${sim.url}/v1/messages/batches/${id}/results`, { headers: RAW_HEADERS })
    expect(raw.status).toBe(404)
    expect(await raw.json()).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: `Message Batch ${id} has no available results.` },
      request_id: raw.headers.get('request-id')
    })
  })

  it('stays in progress until processingMs has passed, and can be sped up', async () => {
    const clock = fakeClock()
    const { sim, client } = await start({ now: clock.now, processingMs: 10 * 60_000 })
    const { id } = await client.messages.batches.create({ requests: [item('a', 'Hi'), item('b', 'Yo')] })
    clock.advance(5 * 60_000)
    const halfway = await client.messages.batches.retrieve(id)
    expect(halfway.processing_status).toBe('in_progress')
    expectCountsAddUp(halfway, 2)

    sim.setProcessingMs(0)
    const ended = await client.messages.batches.retrieve(id)
    expect(ended.processing_status).toBe('ended')
    // Never before a moment the batch was shown as still running.
    expect(ended.ended_at).toBe(new Date(clock.now()).toISOString().replace('Z', '000Z'))
    expect(sim.batches()[0]).toMatchObject({ id, processingStatus: 'ended', requestCount: 2, customIds: ['a', 'b'] })
  })
})

describe('create-time validation', () => {
  const tooLongId = 'x'.repeat(65)
  const cases: Array<[string, unknown, string]> = [
    ['missing requests', {}, 'requests: Field required'],
    ['empty requests', { requests: [] }, 'requests: List should have at least 1 item after validation, not 0'],
    ['too many requests', { requests: ['a', 'b', 'c', 'd'].map((id) => item(id, 'Hi')) }, 'requests: List should have at most 3 items after validation, not 4'],
    ['missing custom_id', { requests: [{ params: item('a', 'Hi').params }] }, 'requests.0.custom_id: Field required'],
    ['custom_id too long', { requests: [item('ok', 'Hi'), item(tooLongId, 'Hi')] }, 'requests.1.custom_id: String should have at most 64 characters'],
    ['custom_id charset', { requests: [item('not ok!', 'Hi')] }, "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"],
    ['duplicate custom_id', { requests: [item('dup', 'Hi'), item('dup', 'Ho')] }, "requests: custom_id's must be unique within a batch. Duplicate custom_id found: dup"],
    ['missing params', { requests: [{ custom_id: 'a' }] }, 'requests.0.params: Field required']
  ]

  it.each(cases)('%s → 400', async (_name, body, message) => {
    const { sim, client } = await start({ maxRequestsPerBatch: 3 })
    const error = await apiFailure(client.messages.batches.create(body as BatchCreateParams))
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error.type).toBe('invalid_request_error')
    expect(error.apiMessage).toBe(message)
    expect(sim.batches()).toHaveLength(0)
  })

  it('rejects a body that is not JSON', async () => {
    const { sim } = await start()
    const response = await fetch(`${sim.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { ...RAW_HEADERS, 'content-type': 'application/json' },
      body: '{"requests": ['
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { message: string } }
    expect(body.error.message).toMatch(/^The request body is not valid JSON: /)
  })

  it('answers 413 request_too_large above the body limit, without retrying or creating anything', async () => {
    const { sim, client } = await start({ maxBodyBytes: 10_000 })
    const big = 'lorem ipsum '.repeat(200_000) // ~2.4 MB, far beyond the limit
    const error = await apiFailure(client.messages.batches.create({ requests: [item('big', big)] }))
    expect(error.status).toBe(413)
    expect(error.type).toBe('request_too_large')
    expect(error.apiMessage).toBe('Request exceeds the maximum size')
    expect(sim.batches()).toHaveLength(0)
    expect(sim.calls).toHaveLength(1)
  })

  it('does not look into params at create time', async () => {
    const { client } = await start()
    const batch = await client.messages.batches.create({
      requests: [item('weird', 'Hi', { model: 'claude-does-not-exist-9', stream: true, bogus: 1 })]
    })
    expect(batch.processing_status).toBe('in_progress')
  })
})

describe('authentication and headers', () => {
  it('accepts Authorization: Bearer (the SDK) and x-api-key (raw), and logs the calls', async () => {
    const { sim, client } = await start()
    await client.models.list()
    const raw = await fetch(`${sim.url}/v1/models`, { headers: RAW_HEADERS })
    expect(raw.status).toBe(200)
    expect(sim.calls.map((call) => [call.method, call.path, call.status])).toEqual([
      ['GET', '/v1/models', 200],
      ['GET', '/v1/models', 200]
    ])
    expect(sim.calls[0]!.headers).toMatchObject({
      authorization: `Bearer ${DEFAULT_API_KEY}`,
      'anthropic-version': '2026-10-21'
    })
    expect(sim.calls[1]!.headers['x-api-key']).toBe(DEFAULT_API_KEY)
  })

  it('answers 401 for an unknown key, and for none', async () => {
    const { sim } = await start({ apiKeys: ['sk-ant-api03-other'] })
    const client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url })
    const error = await apiFailure(client.models.list())
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(error.type).toBe('authentication_error')
    expect(error.requestID).toMatch(/^req_/)

    const viaHeader = await fetch(`${sim.url}/v1/models`, { headers: { ...RAW_HEADERS, 'x-api-key': 'nope' } })
    expect(viaHeader.status).toBe(401)
    const none = await fetch(`${sim.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })
    expect(none.status).toBe(401)
  })

  it('requires a known anthropic-version', async () => {
    const { sim } = await start()
    const missing = await fetch(`${sim.url}/v1/models`, { headers: { 'x-api-key': DEFAULT_API_KEY } })
    expect(missing.status).toBe(400)
    const body = (await missing.json()) as { error: unknown; request_id: string }
    expect(body.error).toEqual({ type: 'invalid_request_error', message: 'anthropic-version: header is required' })
    expect(body.request_id).toBe(missing.headers.get('request-id'))

    const unknown = await fetch(`${sim.url}/v1/models`, { headers: { ...RAW_HEADERS, 'anthropic-version': '2024-01-01' } })
    expect(unknown.status).toBe(400)
  })

  it('answers 404 not_found_error for an unknown path', async () => {
    const { sim } = await start()
    const response = await fetch(`${sim.url}/v1/nothing-here`, { headers: RAW_HEADERS })
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('not_found_error')
  })
})

describe('errors found while processing', () => {
  it('shows invalid requests only as rows once the batch has ended', async () => {
    const clock = fakeClock()
    const { client } = await start({ now: clock.now, processingMs: HOUR })
    const requests = [
      item('ok', 'Say hello.'),
      item('bad-model', 'Hi', { model: 'claude-does-not-exist-9' }),
      item('retired', 'Hi', { model: 'claude-3-5-haiku-20241022' }),
      item('too-many-tokens', 'Hi', { max_tokens: 9_999_999 }),
      item('zero-tokens', 'Hi', { max_tokens: 0 }),
      item('streaming', 'Hi', { stream: true }),
      item('no-messages', 'Hi', { messages: undefined }),
      item('extra', 'Hi', { bogus: true }),
      item('sampling', 'Hi', { temperature: 0.5 }),
      item('no-batch', 'Hi', { model: 'claude-mythos-preview' }),
      item('overloaded', 'Please SIMULATE_ERROR:overloaded_error now'),
      item('expire', 'SIMULATE_EXPIRE')
    ]
    const { id } = await client.messages.batches.create({ requests })

    clock.advance(HOUR - 1)
    const running = await client.messages.batches.retrieve(id)
    expect(running.request_counts).toEqual({ processing: 12, succeeded: 0, errored: 0, canceled: 0, expired: 0 })

    clock.advance(1)
    const ended = await client.messages.batches.retrieve(id)
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 10, canceled: 0, expired: 1 })

    const results = byId(await collect(await client.messages.batches.results(id)))
    const invalid = (message: string) => ({
      type: 'errored',
      error: {
        type: 'error',
        error: { details: { error_visibility: 'user_facing' }, type: 'invalid_request_error', message },
        request_id: null
      }
    })
    expect(results.get('ok')?.type).toBe('succeeded')
    expect(results.get('bad-model')).toEqual({
      type: 'errored',
      error: {
        type: 'error',
        error: { details: { error_visibility: 'user_facing' }, type: 'not_found_error', message: 'model: claude-does-not-exist-9' },
        request_id: null
      }
    })
    expect(results.get('retired')).toMatchObject({ error: { error: { type: 'not_found_error' } } })
    expect(results.get('too-many-tokens')).toEqual(invalid('max_tokens: 9999999 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5-20251001'))
    expect(results.get('zero-tokens')).toEqual(invalid('max_tokens: must be greater than or equal to 1'))
    expect(results.get('streaming')).toEqual(invalid('"stream=True" is not supported in the Message Batches API'))
    expect(results.get('no-messages')).toEqual(invalid('messages: Field required'))
    expect(results.get('extra')).toEqual(invalid('bogus: Extra inputs are not permitted'))
    expect(results.get('sampling')).toEqual(invalid('temperature: sampling parameters are not supported in API version 2026-10-21'))
    expect(results.get('no-batch')).toMatchObject({ error: { error: { type: 'invalid_request_error' } } })
    expect(results.get('overloaded')).toEqual({
      type: 'errored',
      error: {
        type: 'error',
        error: { type: 'overloaded_error', message: 'Simulated overloaded_error' },
        request_id: expect.stringMatching(/^workerreq_/)
      }
    })
    expect(results.get('expire')).toEqual({ type: 'expired' })
  })

  it('still accepts sampling parameters in batches made with anthropic-version 2023-06-01', async () => {
    const { sim, client } = await start()
    const created = await fetch(`${sim.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { ...RAW_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [item('warm', 'Hi', { temperature: 0.2 })] })
    })
    const { id } = (await created.json()) as MessageBatch
    expect(sim.batches()[0]!.anthropicVersion).toBe('2023-06-01')
    const ended = await client.messages.batches.retrieve(id)
    expect(ended.request_counts.succeeded).toBe(1)
  })
})

describe('listing', () => {
  it('pages newest first, and the SDK walks every batch exactly once, both ways', async () => {
    const { client } = await start()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await client.messages.batches.create({ requests: [item(`r${i}`, 'Hi')] })).id)
    const newestFirst = [...ids].reverse()

    const page = await client.messages.batches.list({ limit: 2 })
    expect(page.data.map((b) => b.id)).toEqual(newestFirst.slice(0, 2))
    expect(page.has_more).toBe(true)
    expect(page.first_id).toBe(newestFirst[0])
    expect(page.last_id).toBe(newestFirst[1])

    const walked: string[] = []
    for await (const batch of client.messages.batches.list({ limit: 2 })) {
      expectCountsAddUp(batch, 1)
      walked.push(batch.id)
    }
    expect(walked).toEqual(newestFirst)

    const backwards: string[] = []
    for await (const batch of client.messages.batches.list({ limit: 2, before_id: ids[0]! })) backwards.push(batch.id)
    expect(backwards.sort()).toEqual(ids.slice(1).sort())

    const last = await client.messages.batches.list({ limit: 2, after_id: newestFirst[3]! })
    expect(last.data.map((b) => b.id)).toEqual([ids[0]])
    expect(last.has_more).toBe(false)
  })

  it('refuses a limit outside 1..1000', async () => {
    const { client } = await start()
    expect((await apiFailure(client.messages.batches.list({ limit: 0 }))).status).toBe(400)
    expect((await apiFailure(client.messages.batches.list({ limit: 1001 }))).status).toBe(400)
  })
})

describe('cancel and delete', () => {
  it('cancels: canceling, then ended with the unfinished requests canceled', async () => {
    const clock = fakeClock()
    const { client } = await start({ now: clock.now, processingMs: 60_000 })
    const requests = ['a', 'b', 'c', 'd'].map((id) => item(id, `Question ${id}`))
    const { id } = await client.messages.batches.create({ requests })
    clock.advance(30_000) // halfway: the first two requests are done

    const canceling = await client.messages.batches.cancel(id)
    expect(canceling.processing_status).toBe('canceling')
    expect(canceling.cancel_initiated_at).toMatch(TIMESTAMP)
    expect(canceling.request_counts.processing).toBe(4)

    const ended = await client.messages.batches.retrieve(id)
    expect(ended.processing_status).toBe('ended')
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 2, expired: 0 })
    const results = byId(await collect(await client.messages.batches.results(id)))
    expect(results.get('a')?.type).toBe('succeeded')
    expect(results.get('d')).toEqual({ type: 'canceled' })

    // Canceling an ended batch changes nothing (assumption: undocumented).
    expect(await client.messages.batches.cancel(id)).toEqual(ended)
  })

  it('deletes only ended batches; a deleted batch is gone from the API but not from sim.batches()', async () => {
    const clock = fakeClock()
    const { sim, client } = await start({ now: clock.now, processingMs: 1000 })
    const { id } = await client.messages.batches.create({ requests: [item('a', 'Hi')] })

    const refused = await apiFailure(client.messages.batches.delete(id))
    expect(refused).toBeInstanceOf(BadRequestError)
    expect(refused.apiMessage).toBe('In progress batches cannot be deleted. Consider canceling the batch instead.')

    clock.advance(1000)
    expect(await client.messages.batches.delete(id)).toEqual({ id, type: 'message_batch_deleted' })
    const gone = await apiFailure(client.messages.batches.retrieve(id))
    expect(gone).toBeInstanceOf(NotFoundError)
    expect(gone.apiMessage).toBe(`Message Batch ${id} not found.`)
    expect((await client.messages.batches.list()).data).toEqual([])
    expect(sim.batches()).toMatchObject([{ id, deleted: true }])
  })
})

describe('faults', () => {
  it('hides a new batch for the first notFoundAfterCreate retrieves', async () => {
    const { client } = await start({ notFoundAfterCreate: 2 })
    const { id } = await client.messages.batches.create({ requests: [item('a', 'Hi')] })
    expect(await apiFailure(client.messages.batches.retrieve(id))).toBeInstanceOf(NotFoundError)
    expect(await apiFailure(client.messages.batches.retrieve(id))).toBeInstanceOf(NotFoundError)
    expect((await client.messages.batches.retrieve(id)).id).toBe(id)
  })

  it('lose-answer: the batch exists although the SDK saw a connection error', async () => {
    const { sim, client } = await start()
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer' })
    const error = await failure(client.messages.batches.create({ requests: [item('a', 'Hi')] }, { maxRetries: 0 }))
    expect(error).toBeInstanceOf(APIConnectionError)
    expect(sim.batches()).toHaveLength(1)
    expect(sim.calls[0]!.status).toBe(0)
    expect((await client.messages.batches.list()).data.map((b) => b.id)).toEqual([sim.batches()[0]!.id])
  })

  it('lose-answer with a 5xx status: the SDK retries and creates a duplicate', async () => {
    const { sim, client } = await start()
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'lose-answer', status: 500 })
    await client.messages.batches.create({ requests: [item('a', 'Hi')] })
    expect(sim.batches()).toHaveLength(2)
  })

  it('a 529 is retried by the SDK and the call succeeds, with a single batch', async () => {
    const { sim, client } = await start()
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'status', status: 529 })
    const batch = await client.messages.batches.create({ requests: [item('a', 'Hi')] })
    expect(batch.processing_status).toBe('in_progress')
    expect(sim.calls.map((c) => c.status)).toEqual([529, 200])
    expect(sim.calls[1]!.headers['x-stainless-retry-count']).toBe('1')
    expect(sim.batches()).toHaveLength(1)
  })

  it('x-should-retry: false stops the SDK from retrying a 429', async () => {
    const { sim, client } = await start()
    sim.injectFault({ path: /^\/v1\/models/, kind: 'status', status: 429, headers: { 'x-should-retry': 'false' } })
    const error = await apiFailure(client.models.list())
    expect(error.status).toBe(429)
    expect(error.type).toBe('rate_limit_error')
    expect(sim.calls).toHaveLength(1)
  })

  it('delay: a client timeout after the work was done leaves a batch behind', async () => {
    const { sim, client } = await start()
    sim.injectFault({ method: 'POST', path: '/v1/messages/batches', kind: 'delay', ms: 2000 })
    const create = client.messages.batches.create({ requests: [item('a', 'Hi')] }, { maxRetries: 0, timeout: 100 })
    expect(await failure(create)).toBeInstanceOf(APIConnectionTimeoutError)
    expect(sim.batches()).toHaveLength(1)
  })

  it('cut-stream: the results iterator throws after the lines that arrived', async () => {
    const { sim, client } = await start()
    const requests = ['a', 'b', 'c', 'd', 'e'].map((id) => item(id, 'Hi'))
    const { id } = await client.messages.batches.create({ requests })
    await client.messages.batches.retrieve(id)
    sim.injectFault({ path: /\/results$/, kind: 'cut-stream', afterLines: 2 })

    const rows: MessageBatchIndividualResponse[] = []
    const error = await failure(
      (async () => {
        for await (const row of await client.messages.batches.results(id)) rows.push(row)
      })()
    )
    // undici's error comes from Node's realm, not jest's, so compare by name rather than instanceof.
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' })
    expect(rows).toHaveLength(2)
  })
})

describe('the clock', () => {
  it('expires what is unfinished after 24 h, and archives results after 29 days', async () => {
    const clock = fakeClock()
    const { sim, client } = await start({ now: clock.now, processingMs: 48 * HOUR })
    const requests = ['a', 'b', 'c', 'd'].map((id) => item(id, `Question ${id}`))
    const created = await client.messages.batches.create({ requests })

    clock.advance(25 * HOUR)
    const ended = await client.messages.batches.retrieve(created.id)
    expect(ended.processing_status).toBe('ended')
    expect(ended.ended_at).toBe(created.expires_at)
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 2 })
    const results = byId(await collect(await client.messages.batches.results(created.id)))
    expect(results.get('d')).toEqual({ type: 'expired' })

    clock.advance(28 * DAY)
    const archived = await client.messages.batches.retrieve(created.id)
    expect(Date.parse(archived.archived_at!) - Date.parse(created.created_at)).toBe(29 * DAY)
    expect(await apiFailure(client.messages.batches.results(created.id))).toBeInstanceOf(NotFoundError)
    expect(sim.calls.at(-1)!.path).toBe(`/v1/messages/batches/${created.id}/results`)
  })
})

describe('models and count_tokens', () => {
  it('retrieves models by id and alias, and 404s unknown ones', async () => {
    const { client } = await start()
    const haiku = await client.models.retrieve('claude-haiku-4-5')
    expect(haiku).toMatchObject({
      type: 'model',
      id: 'claude-haiku-4-5-20251001',
      lifecycle: 'active',
      line: 'haiku',
      max_tokens: 64_000,
      capabilities: { batch: { supported: true } }
    })
    expect(haiku).not.toHaveProperty('aliases')
    expect((await client.models.retrieve('claude-3-5-haiku-20241022')).lifecycle).toBe('retired')
    expect((await client.models.retrieve('claude-mythos-preview')).capabilities?.batch.supported).toBe(false)
    const missing = await apiFailure(client.models.retrieve('claude-nope'))
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing.apiMessage).toBe('model: claude-nope')
  })

  it('lists active and deprecated models by default, newest first, and filters by lifecycle', async () => {
    const { sim, client } = await start()
    const ids: string[] = []
    for await (const model of client.models.list({ limit: 3 })) ids.push(model.id)
    expect(ids).toEqual([
      'claude-haiku-5-5',
      'claude-sonnet-5-5',
      'claude-opus-5-5',
      'claude-mythos-preview',
      'claude-sonnet-4-6',
      'claude-opus-4-6',
      'claude-haiku-4-5-20251001',
      'claude-sonnet-4-5-20250929'
    ])
    const retired = await client.models.list({ lifecycle: ['retired'] })
    expect(retired.data.map((m) => m.id)).toEqual(['claude-3-5-haiku-20241022'])
    expect(decodeURIComponent(sim.calls.at(-1)!.path)).toContain('lifecycle[]=retired')
  })

  it('count_tokens matches the input tokens billed for the same params', async () => {
    const { client } = await start()
    const params = {
      model: 'claude-haiku-4-5',
      system: 'You are terse.',
      messages: [
        { role: 'user' as const, content: 'What is a batch?' },
        { role: 'assistant' as const, content: 'A group of requests.' },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'And why is it cheaper?' }] }
      ]
    }
    const { input_tokens: counted } = await client.messages.countTokens(params)
    const { id } = await client.messages.batches.create({ requests: [{ custom_id: 'c', params: { ...params, max_tokens: 200 } }] })
    await client.messages.batches.retrieve(id)
    const [row] = await collect(await client.messages.batches.results(id))
    expect(succeeded(row).usage.input_tokens).toBe(counted)
  })

  it('count_tokens refuses max_tokens, missing messages and unknown models', async () => {
    const { client } = await start()
    const messages = [{ role: 'user' as const, content: 'Hi' }]
    const withMax = await apiFailure(client.messages.countTokens({ model: 'claude-haiku-4-5', messages, max_tokens: 10 } as never))
    expect(withMax.status).toBe(400)
    expect(withMax.apiMessage).toBe('max_tokens: Extra inputs are not permitted')
    const noMessages = await apiFailure(client.messages.countTokens({ model: 'claude-haiku-4-5' } as never))
    expect(noMessages.apiMessage).toBe('messages: Field required')
    const unknown = await apiFailure(client.messages.countTokens({ model: 'claude-nope', messages }))
    expect(unknown).toBeInstanceOf(NotFoundError)
    expect(unknown.apiMessage).toBe('model: claude-nope')
  })
})
