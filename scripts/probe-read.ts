/**
 * Measures the read-and-plan phase alone, in a fresh process each time: wall time and peak RSS
 * (process.resourceUsage().maxRSS). Not the benchmark (bench/ has that): a quick probe for whoever
 * works on reading and planning.
 *
 *   npm run -s build:tools && node build/scripts/probe-read.js files 100000
 *   node build/scripts/probe-read.js csv 1000000
 *   node build/scripts/probe-read.js floor 100000     # the least work: glob, read 64 at a time, write the JSON
 *
 * Inputs are generated once under $TMPDIR/probe-read/<kind>-<n> and kept for the next run.
 */
import { existsSync, mkdirSync, writeFileSync, createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as glob from '@actions/glob'
import type { Inputs } from '../src/inputs.js'
import type { Problem } from '../src/sources/types.js'
import { readPlan } from '../src/commands/read-plan.js'

const [mode = 'files', countText = '10000', inner] = process.argv.slice(2)
const count = Number(countText.replace(/_/g, ''))
const root = path.join(tmpdir(), 'probe-read')

if (inner === 'inner') await measure(mode, count)
else {
  const workspace = prepare(mode === 'csv' ? 'csv' : 'files', count)
  // A fresh process, so that peak RSS is this phase's alone.
  const run = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', ...(process.env.PROBE_GC ? ['--expose-gc'] : []), fileURLToPath(import.meta.url), mode, String(count), 'inner'],
    { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, PROBE_WORKSPACE: workspace } }
  )
  // @actions/core's debug lines (glob's) are noise here.
  process.stdout.write(
    run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::debug::'))
      .join('\n')
  )
  process.stderr.write(run.stderr)
  process.exit(run.status ?? 1)
}

function prepare(kind: 'files' | 'csv', n: number): string {
  const workspace = path.join(root, `${kind}-${n}`)
  if (existsSync(path.join(workspace, '.done'))) return workspace
  mkdirSync(workspace, { recursive: true })
  if (kind === 'files') {
    for (let i = 0; i < n; i++) {
      const dir = path.join(workspace, 'prompts', `d${Math.floor(i / 1000)}`)
      if (i % 1000 === 0) mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, `item-${i}.md`), `---\nmax_tokens: 512\n---\nDescribe item ${i} in two sentences.\n`)
    }
  } else {
    mkdirSync(path.join(workspace, 'data'), { recursive: true })
    writeFileSync(path.join(workspace, 'data', 'template.md'), 'Write one sentence about {{name}}, which costs {{price}}.\n')
    const lines: string[] = ['id,name,price']
    for (let i = 0; i < n; i++) lines.push(`${i},product ${i},${(i % 997) + 0.99}`)
    writeFileSync(path.join(workspace, 'data', 'items.csv'), lines.join('\n') + '\n')
  }
  writeFileSync(path.join(workspace, '.done'), '')
  return workspace
}

async function measure(what: string, n: number): Promise<void> {
  const workspace = process.env.PROBE_WORKSPACE!
  const spool = path.join(tmpdir(), `probe-read-spool-${process.pid}.jsonl`)
  const started = performance.now()
  let summary: string
  // Kept alive to the end, so that the retained heap counts it.
  let plan: Awaited<ReturnType<typeof readPlan>> | undefined
  if (what === 'floor') {
    summary = await floor(workspace, spool)
  } else {
    const problems: Problem[] = []
    const inputs = {
      workspace,
      prompts: what === 'csv' ? [] : ['prompts/**/*'],
      promptsIsDefault: what !== 'csv',
      data: what === 'csv' ? 'data/items.csv' : undefined,
      template: what === 'csv' ? 'data/template.md' : undefined,
      model: 'claude-haiku-4-5',
      maxTokens: 1024,
      outputDir: 'generated'
    } as Partial<Inputs> as Inputs
    plan = await readPlan(
      inputs,
      spool,
      'abcd2345',
      (p) => problems.push(p),
      () => {}
    )
    summary = `${plan.requests.length} requests, ${plan.chunks.length} batches, ${problems.length} problems${problems.length ? `: ${problems[0]!.message}` : ''}`
  }
  const seconds = (performance.now() - started) / 1000
  // With --expose-gc (PROBE_GC=1): what is still held once the plan is made, apart from garbage not yet collected.
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) {
    gc()
    summary += `, heap retained ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`
  }
  const usage = process.resourceUsage()
  // CPU time too: on a shared machine it varies less than wall time.
  const cpu = (usage.userCPUTime + usage.systemCPUTime) / 1e6
  console.log(`${what} ${n}: ${seconds.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU, peak RSS ${(usage.maxRSS / 1024).toFixed(0)} MB (${summary})`)
}

/** The least work the phase could do: glob the same files, read them 64 at a time, write the same JSON lines. */
async function floor(workspace: string, spool: string): Promise<string> {
  const globber = await glob.create(path.join(workspace, 'prompts/**/*'), { matchDirectories: false })
  const files = (await globber.glob()).sort()
  const out = createWriteStream(spool)
  for (let i = 0; i < files.length; i += 64) {
    const texts = await Promise.all(files.slice(i, i + 64).map((f) => readFile(f, 'utf8')))
    for (const text of texts) {
      const line = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 512, messages: [{ role: 'user', content: text }] }) + '\n'
      if (!out.write(line)) await once(out, 'drain')
    }
  }
  out.end()
  await once(out, 'finish')
  return `${files.length} files`
}
