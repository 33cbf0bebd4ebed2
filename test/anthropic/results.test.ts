import { describe, expect, it } from '@jest/globals'
import { openResults } from '../../src/anthropic/results.js'
import { RetryDeadlineError } from '../../src/anthropic/retry.js'
import { apiError, ENDED, fakeClock, stubApi, type Step } from './stub-api.js'

const line = (id: string) => JSON.stringify({ custom_id: id, result: { type: 'succeeded', message: { content: [] } } })
const JSONL: Step = { status: 200, text: `${line('a')}\n${line('b')}\n`, headers: { 'content-type': 'application/x-jsonl' } }
// Each attempt reads the status twice: once to check that results_url is on the API's host, once inside the SDK.
const STATUS: Step = { status: 200, json: ENDED }
const OPEN: Step[] = [STATUS, STATUS]

async function read(script: Step[], deadlineMs = 60_000) {
  const api = stubApi(script, apiError(500))
  const clock = fakeClock()
  const ids: string[] = []
  for await (const l of await openResults(api.client, ENDED.id, { deadline: clock.now() + deadlineMs, now: clock.now, sleep: clock.sleep })) ids.push(l.custom_id)
  return { ids, api }
}

describe('openResults', () => {
  it('streams every line, the first included', async () => {
    expect((await read([...OPEN, JSONL])).ids).toEqual(['a', 'b'])
  })

  it.each<[string, Step[]]>([
    ['a 500 on the results URL', [...OPEN, apiError(500), ...OPEN, JSONL]],
    ['a 500 on the status read', [apiError(500), ...OPEN, JSONL]],
    ['an HTML page with status 200 for the results', [...OPEN, { status: 200, text: '<html>proxy</html>' }, ...OPEN, JSONL]],
    ['a dropped connection', [...OPEN, { drop: true }, ...OPEN, JSONL]],
    ['404 twice right after the end', [...OPEN, apiError(404, 'not_found_error'), ...OPEN, apiError(404, 'not_found_error'), ...OPEN, JSONL]]
  ])('opens the stream again after %s', async (_, script) => {
    expect((await read(script)).ids).toEqual(['a', 'b'])
  })

  it('gives up on a 404 that lasts, with the 404', async () => {
    const script = Array.from({ length: 10 }, () => [...OPEN, apiError(404, 'not_found_error')]).flat()
    const error = await read(script).catch((e: unknown) => e)
    expect(error).toHaveProperty('status', 404)
  })

  it('stops at its deadline when the results keep failing', async () => {
    await expect(read([], 20_000)).rejects.toBeInstanceOf(RetryDeadlineError)
  })

  it('never follows a results_url on another host: the key would go with it', async () => {
    const elsewhere: Step = { status: 200, json: { ...ENDED, results_url: 'https://results.example.net/steal' } }
    const error = await read([elsewhere, elsewhere, JSONL]).catch((e: unknown) => e)
    expect(String(error)).toMatch(/said to be at "https:\/\/results.example.net", not at the API .* not fetched, so that the API key is not sent there/)
  })
})
