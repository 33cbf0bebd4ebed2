/**
 * A scripted fetch for the real SDK client: each call takes the next step of the script, so unit tests
 * can give the SDK an HTML page with status 200, a dropped connection or a call that never answers,
 * and see what the code above it makes of it.
 */
import { Anthropic } from '@anthropic-ai/sdk'

export type Step =
  { status: number; json: unknown; headers?: Record<string, string> } | { status: number; text: string; headers?: Record<string, string> } | { drop: true } | { hang: true }

export interface StubApi {
  client: Anthropic
  /** Every call's URL, in order. */
  calls: string[]
  /** How many calls saw their signal aborted (a hang abandoned by its timeout). */
  aborted: number
}

export const BATCH = {
  id: 'msgbatch_stub',
  type: 'message_batch',
  processing_status: 'in_progress',
  request_counts: { processing: 1, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  created_at: new Date().toISOString(),
  expires_at: new Date(Date.now() + 86_400_000).toISOString(),
  ended_at: null,
  archived_at: null,
  cancel_initiated_at: null,
  results_url: null
}

export const ENDED = {
  ...BATCH,
  processing_status: 'ended',
  request_counts: { ...BATCH.request_counts, processing: 0, succeeded: 1 },
  results_url: 'https://stub.invalid/v1/messages/batches/msgbatch_stub/results'
}

/** `last` answers every call once the script has run out. */
export function stubApi(script: Step[], last: Step = { status: 200, json: ENDED }): StubApi {
  const api: StubApi = { calls: [], aborted: 0, client: undefined as unknown as Anthropic }
  const fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    api.calls.push(String(url))
    const step = script.shift() ?? last
    if ('hang' in step) {
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => {
          api.aborted++
          reject(new DOMException('This operation was aborted', 'AbortError'))
        })
      })
    }
    if ('drop' in step) throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })
    const body = 'json' in step ? JSON.stringify(step.json) : step.text
    const type = 'json' in step ? 'application/json' : 'text/html'
    return new Response(body, { status: step.status, headers: { 'content-type': type, 'request-id': 'req_stub', ...step.headers } })
  }
  api.client = new Anthropic({ apiKey: 'sk-ant-test-key', authToken: null, baseURL: 'https://stub.invalid', maxRetries: 0, fetch })
  return api
}

export const apiError = (status: number, type = 'api_error', headers: Record<string, string> = {}): Step => ({
  status,
  json: { type: 'error', error: { type, message: `Simulated ${status}` }, request_id: 'req_stub' },
  headers
})

/** A clock that moves only when the code under test sleeps: retries take no real time. */
export function fakeClock(start = Date.now()) {
  const clock = {
    t: start,
    slept: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.slept.push(ms)
      clock.t += ms
    }
  }
  return clock
}
