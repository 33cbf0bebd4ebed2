import { describe, expect, it } from '@jest/globals'
import { openResults } from '../../src/anthropic/results.js'
import { RetryDeadlineError } from '../../src/anthropic/retry.js'
import { apiError, ENDED, fakeClock, stubApi, type Step } from './stub-api.js'

const line = (id: string) => JSON.stringify({ custom_id: id, result: { type: 'succeeded', message: { content: [] } } })
const JSONL: Step = { status: 200, text: `${line('a')}\n${line('b')}\n`, headers: { 'content-type': 'application/x-jsonl' } }
const STATUS: Step = { status: 200, json: ENDED }

async function read(script: Step[], deadlineMs = 60_000) {
  const api = stubApi(script, apiError(500))
  const clock = fakeClock()
  const ids: string[] = []
  for await (const l of await openResults(api.client, ENDED.id, { deadline: clock.now() + deadlineMs, now: clock.now, sleep: clock.sleep })) ids.push(l.custom_id)
  return { ids, api }
}

describe('openResults', () => {
  it('streams every line, the first included', async () => {
    expect((await read([STATUS, JSONL])).ids).toEqual(['a', 'b'])
  })

  it.each<[string, Step[]]>([
    ['a 500 on the results URL', [STATUS, apiError(500), STATUS, JSONL]],
    ['a 500 on the status read', [apiError(500), STATUS, JSONL]],
    ['an HTML page with status 200 for the results', [STATUS, { status: 200, text: '<html>proxy</html>' }, STATUS, JSONL]],
    ['a dropped connection', [STATUS, { drop: true }, STATUS, JSONL]],
    ['404 twice right after the end', [STATUS, apiError(404, 'not_found_error'), STATUS, apiError(404, 'not_found_error'), STATUS, JSONL]]
  ])('opens the stream again after %s', async (_, script) => {
    expect((await read(script)).ids).toEqual(['a', 'b'])
  })

  it('gives up on a 404 that lasts, with the 404', async () => {
    const script = Array.from({ length: 10 }, () => [STATUS, apiError(404, 'not_found_error')]).flat()
    const error = await read(script).catch((e: unknown) => e)
    expect(error).toHaveProperty('status', 404)
  })

  it('stops at its deadline when the results keep failing', async () => {
    await expect(read([], 20_000)).rejects.toBeInstanceOf(RetryDeadlineError)
  })
})
