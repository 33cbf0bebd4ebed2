/**
 * Measures `collect` from a manifest at N requests, through the bundled action as a runner runs it,
 * against the Batch API simulator: wall time and peak RSS of the collect step alone. A submission is
 * made once (prompt files, or one CSV data file + template), then collected `reps` times, its
 * records put back and its outputs removed in between.
 *
 *   npm run package && npm run -s build:tools && node build/scripts/probe-collect.js [N] [files|data] [reps] [--github] [--round]
 *
 * Without --github it runs as a local run does (no artifact service: the local stand-in folder);
 * with it, the fake GitHub's artifact service receives the results artifact. PROBE_PROF=<folder>
 * leaves a CPU profile of each collect there; PROBE_MEM=<prefix> a memory timeline beside the log
 * lines; PROBE_KEEP=1 keeps the workspace. --round measures a
 * whole submit with wait-minutes instead (read, plan, send, wait, write), without a lock file.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../test/support/simulator.js'
import { FAKE_TOKEN, GitHubFake } from '../test/support/github-fake.js'
import { runAction, type ActionRun } from '../test/support/run-action.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const count = Number(args[0]) || 10_000
const kind = args[1] === 'data' ? 'data' : 'files'
const reps = Number(args[2]) || 1
const withGitHub = process.argv.includes('--github')
// --round: measure a whole submit that waits for its results and writes them, instead of a collect.
const round = process.argv.includes('--round')

const workspace = await mkdtemp(path.join(tmpdir(), 'probe-collect-'))
const runnerTemp = path.join(workspace, '..', `${path.basename(workspace)}-runner`)
const rssFile = path.join(runnerTemp, 'maxrss')
// Written by the action's own process as it exits: its peak RSS, which a parent cannot ask Node for,
// and its CPU time, steadier than the wall time on a busy machine.
const hook = path.join(runnerTemp, 'rss-hook.mjs')
mkdirSync(runnerTemp, { recursive: true })
writeFileSync(
  hook,
  `import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
// --cpu-prof is not allowed in NODE_OPTIONS: the profiler is started here instead.
const session = process.env.PROBE_PROF ? new Session() : undefined
session?.connect()
session?.post('Profiler.enable')
session?.post('Profiler.start')
// PROBE_MEM=<file>: the memory every 100 ms, between the log lines, to see which phase holds what.
const timeline = process.env.PROBE_MEM ? [] : undefined
if (timeline) {
  const t0 = Date.now()
  const mark = (what) => { const m = process.memoryUsage(); timeline.push(\`\${Date.now() - t0} ms rss \${m.rss >> 20} heap \${m.heapUsed >> 20} ext \${m.external >> 20} MB \${what}\`) }
  setInterval(() => mark(''), 100).unref()
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk, ...rest) => { if (!String(chunk).startsWith('::debug')) mark(String(chunk).slice(0, 80).trim()); return write(chunk, ...rest) }
}
process.on('exit', () => {
  if (timeline) writeFileSync(process.env.PROBE_MEM, timeline.join('\\n') + '\\n')
  const u = process.resourceUsage()
  writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime }))
  session?.post('Profiler.stop', (error, result) => { if (!error) writeFileSync(process.env.PROBE_PROF, JSON.stringify(result.profile)) })
})
`
)

let inputs: Record<string, string>
if (kind === 'files') {
  for (let i = 0; i < count; i++) {
    const dir = path.join(workspace, 'prompts', `d${Math.floor(i / 1000)}`)
    if (i % 1000 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, `${i}.md`), `Describe item ${i} in two sentences.\n`)
  }
  inputs = {}
} else {
  mkdirSync(path.join(workspace, 'data'))
  mkdirSync(path.join(workspace, 'templates'))
  const rows = ['id,subject']
  for (let i = 0; i < count; i++) rows.push(`T${i},"Parcel ${i} arrived late, and the lid was broken"`)
  writeFileSync(path.join(workspace, 'data', 'tickets.csv'), rows.join('\n') + '\n')
  writeFileSync(path.join(workspace, 'templates', 'classify.md'), '---\nmax_tokens: 20\n---\nClassify: {{subject}}\n')
  inputs = { data: 'data/tickets.csv', template: 'templates/classify.md' }
}

const simulator = await BatchSimulator.start({ processingMs: 0 })
const github = withGitHub ? await GitHubFake.start() : undefined
const step = (more: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> =>
  runAction({
    workspace,
    runnerTemp,
    inputs: {
      'anthropic-api-key': DEFAULT_API_KEY,
      'anthropic-base-url': simulator.url,
      'poll-interval-seconds': '0.2',
      ...(github ? { 'github-token': FAKE_TOKEN } : {}),
      ...inputs,
      ...more
    },
    env: { ...(github ? github.envFor(github.addRun()) : {}), ...env },
    timeoutMs: 1_800_000
  })

const t0 = performance.now()
const submitted = round ? undefined : await step({})
if (submitted && submitted.exitCode !== 0) throw new Error(`submit failed:\n${submitted.stdout.slice(-3000)}`)
if (submitted) console.log(`submit of ${count} (${kind}): ${((performance.now() - t0) / 1000).toFixed(1)} s`)

// What collect consumes and writes, put back before each repetition.
const manifests = path.join(runnerTemp, 'claude-batch-state', 'manifests')
const saved = path.join(runnerTemp, 'manifests-saved')
if (!github && !round) cpSync(manifests, saved, { recursive: true })
const lock = path.join(workspace, 'claude-batch.lock.json')
const lockBefore = existsSync(lock) ? readFileSync(lock) : undefined

for (let rep = 1; rep <= reps; rep++) {
  rmSync(path.join(workspace, 'generated'), { recursive: true, force: true })
  if (lockBefore) writeFileSync(lock, lockBefore)
  else rmSync(lock, { force: true })
  if (round) {
    // Each round is a new submission: nothing of the last one is left to pick up.
    rmSync(path.join(runnerTemp, 'claude-batch-state'), { recursive: true, force: true })
  } else if (!github) {
    rmSync(manifests, { recursive: true, force: true })
    cpSync(saved, manifests, { recursive: true })
  } else {
    for (const a of github.artifacts().filter((a) => a.name.startsWith('claude-batch-results-'))) {
      await fetch(`${github.url}/repos/${github.repository}/actions/artifacts/${a.id}`, { method: 'DELETE', headers: { authorization: `token ${FAKE_TOKEN}` } })
    }
  }
  rmSync(rssFile, { force: true })
  const started = performance.now()
  const collected = await step(round ? { 'wait-minutes': '30', 'lock-file': '' } : { command: 'collect' }, {
    NODE_OPTIONS: `--import=${hook}`,
    ...(process.env.PROBE_PROF ? { PROBE_PROF: `${process.env.PROBE_PROF}/collect-${rep}.cpuprofile` } : {}),
    ...(process.env.PROBE_MEM ? { PROBE_MEM: `${process.env.PROBE_MEM}-${rep}.txt` } : {})
  })
  const seconds = (performance.now() - started) / 1000
  const usage = existsSync(rssFile) ? (JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRSS: number; cpu: number }) : { maxRSS: NaN, cpu: NaN }
  const ok = collected.exitCode === 0 && collected.outputs.succeeded === String(count)
  console.log(
    `${round ? 'submit and wait' : 'collect'} ${count} (${kind}${github ? ', artifact service' : ''}) #${rep}: ${seconds.toFixed(1)} s, CPU ${(usage.cpu / 1e6).toFixed(1)} s, peak RSS ${(usage.maxRSS / 1024).toFixed(0)} MB, succeeded ${collected.outputs.succeeded}, exit ${collected.exitCode}`
  )
  if (!ok) console.log(collected.stdout.slice(-3000))
}

await simulator.close()
await github?.close()
if (process.env.PROBE_KEEP) console.log(`kept ${workspace} and ${runnerTemp}`)
else await Promise.all([rm(workspace, { recursive: true, force: true }), rm(runnerTemp, { recursive: true, force: true })])
