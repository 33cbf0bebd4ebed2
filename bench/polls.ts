/**
 * Status calls during a 6-hour wait with the default inputs, without waiting 6 hours: the action's own wait loop
 * (waitForBatches from src/anthropic/wait.ts, the code dist/ bundles) runs in this process against the
 * simulator, both on one fake clock that each of the loop's pauses moves forward instead of sleeping. The batch
 * takes 24 h, so it is still running when the 6 hours are up; the simulator counts the status calls it answered.
 */
import { BatchSimulator, DEFAULT_API_KEY } from '../test/support/simulator.js'
import { createClient } from '../src/anthropic/client.js'
import { waitForBatches } from '../src/anthropic/wait.js'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ROOT } from '../test/support/run-action.js'
import path from 'node:path'

const HOUR = 3_600_000
/** The default of the poll-interval-seconds input, read from action.yml: the longest gap between two polls. */
const DEFAULT_POLL_SECONDS = Number(
  (parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> }).inputs['poll-interval-seconds']!.default
)

export interface PollCount {
  calls: number
  firstMinute: number
  firstHour: number
  /** ms from the start of the wait to the first status call at or after 1 min: how soon a 1-minute batch is seen ended. */
  seenAfterOneMinuteMs: number
  /** The default of poll-interval-seconds the wait ran with. */
  defaultSeconds: number
}

export async function statusCallsInSixHours(): Promise<PollCount> {
  let offset = 0
  const now = () => Date.now() + offset
  const sim = await BatchSimulator.start({ processingMs: 24 * HOUR, now })
  // The wait makes one status call per round, then pauses: the k-th call is made after the first k pauses.
  const pollAt: number[] = [0]
  try {
    const client = createClient({ apiKey: DEFAULT_API_KEY, baseURL: sim.url })
    const batch = await client.messages.batches.create({
      requests: [{ custom_id: 'one', params: { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] } }]
    })
    const before = sim.calls.length
    const started = now()
    await waitForBatches(client, [batch], {
      deadline: started + 6 * HOUR,
      maxIntervalMs: DEFAULT_POLL_SECONDS * 1000,
      onEnded: async () => {},
      log: () => {},
      now,
      sleep: (ms) => {
        offset += ms
        pollAt.push(now() - started)
        return Promise.resolve()
      }
    })
    const calls = sim.calls.slice(before).filter((c) => c.method === 'GET' && /^\/v1\/messages\/batches\/[^/?]+$/.test(c.path)).length
    const at = pollAt.slice(0, calls)
    return {
      defaultSeconds: DEFAULT_POLL_SECONDS,
      calls,
      firstMinute: at.filter((t) => t < 60_000).length,
      firstHour: at.filter((t) => t < HOUR).length,
      seenAfterOneMinuteMs: at.find((t) => t >= 60_000) ?? NaN
    }
  } finally {
    await sim.close()
  }
}
