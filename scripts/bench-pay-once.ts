/**
 * Measures "pay once" at scale: 100,000 prompt files whose outputs and lock entries are all in place,
 * through the bundled action as a runner runs it. It must end `up-to-date` in a few seconds without a
 * single API request (the base URL points at a port nothing listens on, so any request would fail).
 *
 *   npm run package && npm run -s build:tools && node build/scripts/bench-pay-once.js [count]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fingerprint } from '../src/plan/fingerprint.js'
import { formatLock, type Lock } from '../src/state/lock.js'
import { runAction } from '../test/support/run-action.js'

const count = Number(process.argv[2]) || 100_000
const workspace = await mkdtemp(path.join(tmpdir(), 'bench-pay-once-'))
const lock: Lock = new Map()
for (let i = 0; i < count; i++) {
  const dir = `d${Math.floor(i / 1000)}`
  if (i % 1000 === 0) {
    mkdirSync(path.join(workspace, 'prompts', dir), { recursive: true })
    mkdirSync(path.join(workspace, 'generated', dir), { recursive: true })
  }
  const text = `Describe item ${i}.`
  writeFileSync(path.join(workspace, 'prompts', dir, `${i}.md`), text + '\n')
  const out = `generated/${dir}/${i}.md`
  writeFileSync(path.join(workspace, out), 'done\n')
  // What the prompt-file source makes of such a file: the defaults, one user message.
  const params = { model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: text }] }
  lock.set(out, { fingerprint: fingerprint(params, out), batch: 'msgbatch_bench', at: new Date().toISOString() })
}
writeFileSync(path.join(workspace, 'claude-batch.lock.json'), formatLock(lock))

const started = performance.now()
const result = await runAction({ workspace, inputs: { 'anthropic-api-key': 'sk-ant-bench', 'anthropic-base-url': 'http://127.0.0.1:9' }, timeoutMs: 600_000 })
const seconds = (performance.now() - started) / 1000
console.log(
  `${count} unchanged prompt files: status ${result.outputs.status}, ${result.outputs['unchanged-count']} unchanged, ${result.outputs['request-count']} sent, exit ${result.exitCode}, ${seconds.toFixed(1)} s for the whole step.`
)
if (result.outputs.status !== 'up-to-date') console.log(result.stdout.slice(-3000))
if (process.env.BENCH_KEEP) console.log(`kept ${workspace}`)
else await rm(workspace, { recursive: true, force: true })
process.exit(result.outputs.status === 'up-to-date' ? 0 : 1)
