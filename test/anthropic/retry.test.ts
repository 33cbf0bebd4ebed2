import { describe, expect, it } from '@jest/globals'
import { APIConnectionError, InternalServerError, NotFoundError } from '@anthropic-ai/sdk'
import { describeError, forAttempt } from '../../src/anthropic/client.js'
import { CallTimeoutError, RetryDeadlineError, isTransient, withRetry } from '../../src/anthropic/retry.js'
import { retrieveBatch } from '../../src/anthropic/wait.js'
import { apiError, BATCH, fakeClock, stubApi, type Step } from './stub-api.js'

// Made a day ago: a 404 means gone, not "not visible yet".
const OLD = { ...BATCH, created_at: new Date(Date.now() - 86_400_000).toISOString() }
const retrieve = (api: ReturnType<typeof stubApi>, clock = fakeClock(), deadline = clock.now() + 60_000) =>
  retrieveBatch(api.client, OLD as never, { deadline, now: clock.now, sleep: clock.sleep })

describe('withRetry', () => {
  it.each<[string, Step]>([
    ['408', apiError(408, 'timeout_error')],
    ['409', apiError(409, 'conflict_error')],
    ['429', apiError(429, 'rate_limit_error')],
    ['500', apiError(500)],
    ['503', apiError(503)],
    ['529', apiError(529, 'overloaded_error')],
    ['an HTML page with status 200', { status: 200, text: '<html><body>Bad gateway</body></html>' }],
    ['an HTML page with status 200 labelled JSON', { status: 200, text: '<html>oops</html>', headers: { 'content-type': 'application/json' } }],
    ['an HTML error page', { status: 502, text: '<html>502 Bad Gateway</html>' }],
    ['a dropped connection', { drop: true }]
  ])('tries again after %s and returns the answer', async (_, step) => {
    const api = stubApi([step, step])
    const batch = await retrieve(api)
    expect(batch.processing_status).toBe('ended')
    expect(api.calls).toHaveLength(3)
  })

  it.each([400, 401, 403, 404, 413])('gives up at once on %i, with the SDK error unchanged', async (status) => {
    const api = stubApi([apiError(status, 'invalid_request_error')])
    const error = await retrieve(api).catch((e: unknown) => e)
    expect(error).toHaveProperty('status', status)
    expect(error).not.toBeInstanceOf(RetryDeadlineError)
    expect(api.calls).toHaveLength(1)
  })

  it('survives 500 four times in a row (the wait used to fail on this)', async () => {
    const api = stubApi(Array.from({ length: 4 }, () => apiError(500)))
    const clock = fakeClock()
    await expect(retrieve(api, clock)).resolves.toMatchObject({ processing_status: 'ended' })
    expect(api.calls).toHaveLength(5)
    // backoff: roughly 1, 2, 4, 8 s, less up to a quarter
    expect(clock.slept).toHaveLength(4)
    clock.slept.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(0.75 * 1000 * 2 ** i))
  })

  it('honours retry-after-ms and retry-after', async () => {
    const api = stubApi([apiError(429, 'rate_limit_error', { 'retry-after-ms': '2500' }), apiError(529, 'overloaded_error', { 'retry-after': '7' })])
    const clock = fakeClock()
    await retrieve(api, clock)
    expect(clock.slept).toEqual([2500, 7000])
  })

  it('never runs past its deadline, and says what failed and that nothing was spent', async () => {
    const api = stubApi([], apiError(500))
    const clock = fakeClock()
    const deadline = clock.now() + 30_000
    const error = await retrieve(api, clock, deadline).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetryDeadlineError)
    expect(clock.now()).toBeLessThanOrEqual(deadline)
    const message = describeError(error)
    expect(message).toMatch(/^Reading the status of msgbatch_stub did not succeed in time/)
    expect(message).toMatch(/HTTP 500 api_error: Simulated 500/)
    expect(message).toMatch(/Nothing was spent/)
    expect(api.calls.length).toBeGreaterThan(2)
  })

  it('does not wait for a retry-after that would end past the deadline', async () => {
    const api = stubApi([apiError(429, 'rate_limit_error', { 'retry-after': '120' })])
    const clock = fakeClock()
    await expect(retrieve(api, clock, clock.now() + 60_000)).rejects.toBeInstanceOf(RetryDeadlineError)
    expect(clock.slept).toEqual([])
  })

  it('abandons a call that never answers when the deadline comes, and aborts it', async () => {
    const api = stubApi([], { hang: true })
    const started = Date.now()
    const error = await retrieveBatch(api.client, BATCH as never, { deadline: started + 300 }).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(RetryDeadlineError)
    expect(describeError(error)).toMatch(/did not answer within 0\.3 s/)
    expect(api.aborted).toBe(api.calls.length)
  })

  it('times out each attempt, then tries again', async () => {
    const api = stubApi([{ hang: true }])
    const batch = await retrieveBatch(api.client, BATCH as never, { deadline: Date.now() + 5_000, timeoutMs: 100, sleep: async () => {} })
    expect(batch.processing_status).toBe('ended')
    expect(api.calls).toHaveLength(2)
    expect(api.aborted).toBe(1)
  })

  it('bounds calls made through helpers that take a client (forAttempt), signal included', async () => {
    const api = stubApi([{ hang: true }], { status: 200, json: { id: 'claude-haiku-4-5', type: 'model' } })
    const model = await withRetry('looking up a model', (o) => forAttempt(api.client, o).models.retrieve('claude-haiku-4-5'), {
      timeoutMs: 100,
      sleep: async () => {}
    })
    expect(model.id).toBe('claude-haiku-4-5')
    expect(api.aborted).toBe(1)
  })

  it('retries what alsoRetry names, as many times as it says', async () => {
    let calls = 0
    const clock = fakeClock()
    const notFound = () => new NotFoundError(404, { type: 'error', error: { type: 'not_found_error', message: 'no' } }, undefined, new Headers())
    const failing = withRetry(
      'opening results',
      async () => {
        calls++
        throw notFound()
      },
      { alsoRetry: (e, attempt) => e instanceof NotFoundError && attempt < 3, now: clock.now, sleep: clock.sleep }
    )
    await expect(failing).rejects.toBeInstanceOf(NotFoundError)
    expect(calls).toBe(3)
  })
})

describe('isTransient', () => {
  it('tells transient failures from final ones', () => {
    expect(isTransient(new CallTimeoutError(10))).toBe(true)
    expect(isTransient(new APIConnectionError({ message: 'x' }))).toBe(true)
    expect(isTransient(new SyntaxError(`Unexpected token '<', "<html>" is not valid JSON`))).toBe(true)
    expect(isTransient(new TypeError('terminated'))).toBe(true)
    expect(isTransient(new InternalServerError(500, undefined, 'x', new Headers()))).toBe(true)
    expect(isTransient(new InternalServerError(500, undefined, 'x', new Headers({ 'x-should-retry': 'false' })))).toBe(false)
    expect(isTransient(new TypeError('x is not a function'))).toBe(false)
    expect(isTransient(new Error('ENOENT'))).toBe(false)
  })
})

describe('describeError', () => {
  it('says a timeout in words, cuts an HTML page short and never shows the key', async () => {
    expect(describeError(new CallTimeoutError(30_000))).toBe('the API did not answer within 30 s')
    const api = stubApi([{ status: 500, text: `<html>${'x'.repeat(5000)} sk-ant-api03-secret</html>` }])
    const error = await api.client.messages.batches.retrieve('msgbatch_stub').catch((e: unknown) => e)
    const text = describeError(error)
    expect(text).toMatch(/^HTTP 500/)
    expect(text.length).toBeLessThan(300)
    expect(describeError(new Error('key sk-ant-api03-abc_DEF-123 leaked'))).toBe('key sk-ant-… leaked')
  })

  it('says a dropped connection and an unparsable answer in words', () => {
    expect(describeError(new TypeError('terminated'))).toMatch(/connection was dropped/)
    expect(describeError(new SyntaxError(`Unexpected token '<', "<html>" is not valid JSON`))).toMatch(/^the API's answer was not valid JSON/)
  })
})
