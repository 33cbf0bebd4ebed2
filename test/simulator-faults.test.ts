/**
 * Every fault kind of the Batch API simulator, on the third call of every endpoint the action uses, as the real
 * SDK sees it. The fault-matrix tests of the action rely on these meanings: if one changes, they test something
 * else than they claim.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { Anthropic, APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk'
import type { BatchCreateParams } from '@anthropic-ai/sdk/resources/messages/batches'
import { TRUNCATED_JSON, type FaultMatch } from './support/faults.js'
import { BatchSimulator, DEFAULT_API_KEY } from './support/simulator.js'

let sim: BatchSimulator | undefined

afterEach(async () => {
  await sim?.close()
  sim = undefined
})

type Options = { maxRetries?: number; timeout?: number }

/** One endpoint: how to match it and how to call it through the SDK, consuming the whole answer. */
interface Endpoint {
  name: string
  match: Required<Pick<FaultMatch, 'method' | 'path'>>
  call: (client: Anthropic, batchId: string, options: Options) => Promise<unknown>
}

const REQUEST: BatchCreateParams.Request = {
  custom_id: 'a',
  params: { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'create',
    match: { method: 'POST', path: '/v1/messages/batches' },
    call: (c, _id, o) => c.messages.batches.create({ requests: [REQUEST] }, o)
  },
  { name: 'list', match: { method: 'GET', path: '/v1/messages/batches' }, call: (c, _id, o) => c.messages.batches.list({}, o) },
  {
    name: 'retrieve',
    match: { method: 'GET', path: /^\/v1\/messages\/batches\/msgbatch_[^/?]+$/ },
    call: (c, id, o) => c.messages.batches.retrieve(id, {}, o)
  },
  {
    name: 'results',
    match: { method: 'GET', path: /\/results$/ },
    call: async (c, id, o) => {
      const rows: unknown[] = []
      for await (const row of await c.messages.batches.results(id, {}, o)) rows.push(row)
      return rows
    }
  },
  { name: 'cancel', match: { method: 'POST', path: /\/cancel$/ }, call: (c, id, o) => c.messages.batches.cancel(id, {}, o) },
  { name: 'models', match: { method: 'GET', path: '/v1/models' }, call: (c, _id, o) => c.models.list({}, o) },
  {
    name: 'count_tokens',
    match: { method: 'POST', path: '/v1/messages/count_tokens' },
    call: (c, _id, o) => c.messages.countTokens({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }] }, o)
  }
]

/** A simulator with one ended batch (so results exist), and a client that does not retry unless asked. */
async function setup(): Promise<{ sim: BatchSimulator; client: Anthropic; batchId: string }> {
  sim = await BatchSimulator.start()
  const client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url, maxRetries: 0 })
  const { id } = await client.messages.batches.create({ requests: [REQUEST] })
  await client.messages.batches.retrieve(id) // processingMs 0: ended at the first look
  return { sim, client, batchId: id }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to fail')
}

/** Statuses answered to the calls an endpoint's fault matches, in order. */
function statusesOf(sim: BatchSimulator, endpoint: Endpoint): number[] {
  const { method, path } = endpoint.match
  return sim.calls
    .filter((c) => c.method === method)
    .filter((c) => {
      const pathname = c.path.replace(/\?.*/, '')
      return typeof path === 'string' ? pathname === path : path.test(c.path)
    })
    .map((c) => c.status)
}

describe.each(ENDPOINTS)('$name: a fault with after: 2 hits the third call only', (endpoint) => {
  /** Two calls through, the third returned (settled) for the caller to judge, then a fourth that works again. */
  async function third(fault: Record<string, unknown>, options: Options = {}) {
    const { sim, client, batchId } = await setup()
    const before = statusesOf(sim, endpoint).length
    sim.injectFault({ ...endpoint.match, after: 2, ...fault } as Parameters<BatchSimulator['injectFault']>[0])
    await endpoint.call(client, batchId, {})
    await endpoint.call(client, batchId, {})
    const settled = await endpoint.call(client, batchId, options).then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error: error as Error })
    )
    const batchesAfterThird = sim.batches().length
    await endpoint.call(client, batchId, {})
    return { ...settled, sim, batchesAfterThird, statuses: statusesOf(sim, endpoint).slice(before) }
  }

  it('status: an API error in the envelope, nothing done', async () => {
    const { error, statuses, batchesAfterThird } = await third({ kind: 'status', status: 500 })
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 500, type: 'api_error' })
    expect(statuses).toEqual([200, 200, 500, 200])
    expect(batchesAfterThird).toBe(endpoint.name === 'create' ? 3 : 1)
  })

  it('hang: the SDK times out; the call is never answered', async () => {
    const { error, statuses, batchesAfterThird } = await third({ kind: 'hang' }, { timeout: 150 })
    expect(error).toBeInstanceOf(APIConnectionTimeoutError)
    expect(statuses).toEqual([200, 200, 0, 200])
    expect(batchesAfterThird).toBe(endpoint.name === 'create' ? 3 : 1)
  })

  it('lose-answer: a connection error, although the work was done', async () => {
    const { error, statuses, batchesAfterThird } = await third({ kind: 'lose-answer' })
    expect(error).toBeInstanceOf(APIConnectionError)
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError)
    expect(statuses).toEqual([200, 200, 0, 200])
    // The create took effect: a batch the client never heard of.
    expect(batchesAfterThird).toBe(endpoint.name === 'create' ? 4 : 1)
  })

  it('garble: truncated JSON with status 200 makes the SDK throw a parse error, and nothing is done', async () => {
    const { error, statuses, batchesAfterThird } = await third({
      kind: 'garble',
      body: TRUNCATED_JSON,
      contentType: endpoint.name === 'results' ? 'application/x-jsonl' : 'application/json'
    })
    // undici and JSON.parse errors come from Node's realm, not jest's: compare by name.
    expect(error?.name).toBe('SyntaxError')
    expect(error?.message).toMatch(/JSON/)
    expect(statuses).toEqual([200, 200, 200, 200])
    expect(batchesAfterThird).toBe(endpoint.name === 'create' ? 3 : 1)
  })

  it('delay: answered late; a client that waits less times out, after the work was done', async () => {
    const { error, statuses, batchesAfterThird } = await third({ kind: 'delay', ms: 300 }, { timeout: 100 })
    expect(error).toBeInstanceOf(APIConnectionTimeoutError)
    expect(statuses).toEqual([200, 200, 0, 200]) // the client had gone when the answer was due
    expect(batchesAfterThird).toBe(endpoint.name === 'create' ? 4 : 1)
  })

  it('cut-stream: the answer stops midway and the SDK fails', async () => {
    const { error, statuses } = await third({ kind: 'cut-stream', afterLines: 0 })
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' })
    expect(statuses).toEqual([200, 200, 200, 200])
  })
})

describe('garble and delay, without a client timeout', () => {
  it('an HTML page with status 200 is handed back as text by the SDK, not an error, and not retried', async () => {
    const { sim, client, batchId } = await setup()
    sim.injectFault({ method: 'GET', path: /batches\/msgbatch_[^/?]+$/, kind: 'garble' })
    const answer = await new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url }).messages.batches.retrieve(batchId)
    expect(typeof answer).toBe('string')
    expect(answer as unknown as string).toMatch(/^<html>/)
    expect((await client.messages.batches.retrieve(batchId)).id).toBe(batchId)
  })

  it('an HTML results body makes the JSONL reader throw "Unexpected token \'<\'"', async () => {
    const { sim, client, batchId } = await setup()
    sim.injectFault({ path: /\/results$/, kind: 'garble' })
    const error = await failure(ENDPOINTS.find((e) => e.name === 'results')!.call(client, batchId, {}))
    expect(error).toMatchObject({ name: 'SyntaxError', message: expect.stringMatching(/Unexpected token '<'/) })
  })

  it('a delay shorter than the timeout only slows the call down', async () => {
    const { sim, client } = await setup()
    sim.injectFault({ path: '/v1/models', kind: 'delay', ms: 120 })
    const started = Date.now()
    const page = await client.models.list()
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    expect(page.data.length).toBeGreaterThan(0)
  })
})

describe('after and times', () => {
  it('times: Infinity hits every matching call from the (after + 1)-th on; other paths are untouched', async () => {
    const { sim, client, batchId } = await setup()
    sim.injectFault({ method: 'GET', path: /batches\/msgbatch_[^/?]+$/, after: 1, times: Infinity, kind: 'status', status: 503 })
    await client.messages.batches.retrieve(batchId)
    for (let i = 0; i < 3; i++) {
      expect(await failure(client.messages.batches.retrieve(batchId))).toMatchObject({ status: 503 })
    }
    expect((await client.messages.batches.list()).data).toHaveLength(1)
    sim.clearFaults()
    expect((await client.messages.batches.retrieve(batchId)).id).toBe(batchId)
  })

  it('the SDK retries through a status fault with times: 2, making three calls for one', async () => {
    const { sim, batchId } = await setup()
    const retrying = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url, maxRetries: 2 })
    sim.injectFault({ path: /\/results$/, kind: 'status', status: 529, times: 2 })
    const rows = await ENDPOINTS.find((e) => e.name === 'results')!.call(retrying, batchId, {})
    expect(rows).toHaveLength(1)
    expect(sim.calls.filter((c) => c.path.endsWith('/results')).map((c) => c.status)).toEqual([529, 529, 200])
  })

  it('refuses a negative after and a zero times', async () => {
    const { sim } = await setup()
    expect(() => sim.injectFault({ path: '/v1/models', after: -1, kind: 'hang' })).toThrow(RangeError)
    expect(() => sim.injectFault({ path: '/v1/models', times: 0, kind: 'hang' })).toThrow(RangeError)
  })
})

describe('closing', () => {
  it('ends a hung call at once: the client sees the connection close, and close() does not wait for it', async () => {
    const { sim: stand, batchId } = await setup()
    sim = undefined // closed here, not by afterEach
    const client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: stand.url, maxRetries: 0, timeout: 60_000 })
    stand.injectFault({ method: 'GET', path: /batches\/msgbatch_[^/?]+$/, kind: 'hang' })
    const hung = failure(client.messages.batches.retrieve(batchId))
    while (stand.calls.at(-1)?.status !== 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const started = Date.now()
    await stand.close()
    expect(await hung).toBeInstanceOf(APIConnectionError)
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
