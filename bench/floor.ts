/**
 * The floors: the least work each phase could do on this machine, run as a child process like the action so that
 * start-up, memory and the machine's noise are alike. Each does the same I/O as the phase it stands beside and
 * nothing else: no checks, no retries, no annotations, no lock, no summary.
 *
 *   node build/bench/floor.js <mode> '<json options>'
 *
 * It prints `floor:<phase>` lines as it passes each boundary (the parent times them as they arrive) and exits 0.
 * Modes:
 * - prompt-round: read the prompt files 64 at a time and spool their requests (read), post the same JSON to
 *   the simulator (submit), read the status once, stream the results and write each output file 64 at a time
 *   plus the raw results file (write).
 * - data-round: parse the CSV, fill the template, spool (read); post (submit); stream the results into memory and
 *   write the CSV again with an output column (write).
 * - data-plan: parse the CSV, fill the template, spool, and cut the spool into batches (a dry run's I/O).
 * - collect: read the manifest the action left, read each batch's status, stream the results and write the same
 *   files as the action, plus the raw results file.
 * - lock-check: read every prompt file 64 at a time and hash it (sha256), and read the lock file.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { stringify } from 'csv-stringify'
import { mapLimit, Pool } from './pool.js'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'

interface Options {
  workspace: string
  /** A folder of the floor's own for its spool (the action's RUNNER_TEMP stands beside it). */
  temp: string
  url?: string
  apiKey?: string
  /** Where outputs go, relative to the workspace (prompt-round, data-round). */
  outDir?: string
  data?: string
  template?: string
  /** collect: where the action's local state folder is. */
  stateDir?: string
  lockFile?: string
}

const MAX_PER_BATCH = 100_000
const MODEL = 'claude-haiku-4-5'
const mark = (phase: string) => process.stdout.write(`floor:${phase}\n`)

async function writeLine(out: WriteStream, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain')
}

async function closeStream(out: WriteStream): Promise<void> {
  out.end()
  await once(out, 'finish')
}

function headers(o: Options): Record<string, string> {
  return { 'x-api-key': o.apiKey!, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }
}

/** Every file under `dir`, relative to the workspace, sorted as a glob would list them. */
async function listFiles(workspace: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(workspace, dir), { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(workspace, path.join(e.parentPath, e.name)))
    .sort()
}

/** The request a Markdown prompt file makes: the least parsing that gets its max_tokens and body. */
function promptRequest(customId: string, text: string): string {
  let body = text
  let maxTokens = 1024
  if (text.startsWith('---\n')) {
    const end = text.indexOf('\n---\n', 4)
    const front = text.slice(4, end)
    const m = /^max_tokens:\s*(\d+)/m.exec(front)
    if (m) maxTokens = Number(m[1])
    body = text.slice(end + 5)
  }
  return JSON.stringify({ custom_id: customId, params: { model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: body }] } })
}

/** read: list, read 64 at a time, spool one request line each. Returns each request's output path. */
async function readPrompts(o: Options, spool: string): Promise<string[]> {
  const files = await listFiles(o.workspace, 'prompts')
  const out = createWriteStream(spool)
  const texts = await mapLimit(files, 64, (f) => readFile(path.join(o.workspace, f), 'utf8'))
  for (let i = 0; i < files.length; i++) await writeLine(out, promptRequest(`f${i}`, texts[i]!) + '\n')
  await closeStream(out)
  return files.map((f) => path.join(o.outDir!, path.relative('prompts', f)))
}

/** submit: the spool cut into batches of at most 100,000, each posted as one create. */
async function postBatches(o: Options, spool: string): Promise<string[]> {
  const lines = (await readFile(spool, 'utf8')).split('\n').filter(Boolean)
  const ids: string[] = []
  for (let start = 0; start < lines.length; start += MAX_PER_BATCH) {
    const body = `{"requests":[${lines.slice(start, start + MAX_PER_BATCH).join(',')}]}`
    const answer = await fetch(`${o.url}/v1/messages/batches`, { method: 'POST', headers: headers(o), body })
    if (!answer.ok) throw new Error(`create: ${answer.status} ${await answer.text()}`)
    ids.push(((await answer.json()) as { id: string }).id)
  }
  return ids
}

/** Reads each batch's status until it has ended (one call each when the simulator ends them at once). */
async function waitEnded(o: Options, ids: string[]): Promise<void> {
  for (const id of ids) {
    for (;;) {
      const answer = await fetch(`${o.url}/v1/messages/batches/${id}`, { headers: headers(o) })
      const batch = (await answer.json()) as { processing_status: string }
      if (batch.processing_status === 'ended') break
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

interface ResultLine {
  custom_id: string
  result: { type: string; message?: { content: Array<{ type: string; text?: string }> } }
}

/** Streams each batch's results, one parsed line at a time, copying every raw line to `raw`. */
async function streamResults(o: Options, ids: string[], raw: WriteStream, onLine: (line: ResultLine) => Promise<void>): Promise<void> {
  for (const id of ids) {
    const answer = await fetch(`${o.url}/v1/messages/batches/${id}/results`, { headers: headers(o) })
    if (!answer.ok || !answer.body) throw new Error(`results: ${answer.status}`)
    const lines = createInterface({ input: Readable.fromWeb(answer.body as WebReadableStream), crlfDelay: Infinity })
    for await (const line of lines) {
      if (!line) continue
      await writeLine(raw, line + '\n')
      await onLine(JSON.parse(line) as ResultLine)
    }
  }
}

const textOf = (line: ResultLine) => (line.result.message?.content ?? []).map((b) => b.text ?? '').join('')

/** write: every result to its file (64 at a time, each folder made once) and the raw results file. */
async function writeFiles(o: Options, ids: string[], outputOf: (customId: string) => string | undefined): Promise<number> {
  const raw = createWriteStream(path.join(o.temp, 'results.jsonl'))
  const pool = new Pool(64)
  // Each folder is made once; writes into it wait for that one mkdir.
  const made = new Map<string, Promise<unknown>>()
  let written = 0
  await streamResults(o, ids, raw, async (line) => {
    const output = outputOf(line.custom_id)
    if (!output || line.result.type !== 'succeeded') return
    const file = path.join(o.workspace, output)
    const dir = path.dirname(file)
    await pool.add(async () => {
      if (!made.has(dir)) made.set(dir, mkdir(dir, { recursive: true }))
      await made.get(dir)
      await writeFile(file, textOf(line))
      written++
    })
  })
  await pool.drain()
  await closeStream(raw)
  return written
}

async function promptRound(o: Options): Promise<void> {
  mark('start')
  const spool = path.join(o.temp, 'requests.jsonl')
  const outputs = await readPrompts(o, spool)
  mark('read')
  const ids = await postBatches(o, spool)
  mark('submit')
  await waitEnded(o, ids)
  const written = await writeFiles(o, ids, (id) => outputs[Number(id.slice(1))])
  if (written !== outputs.length) throw new Error(`wrote ${written} of ${outputs.length}`)
  mark('write')
}

/** read for the data path: rows parsed, the template filled per row, spooled. Returns the row count. */
async function readData(o: Options, spool: string): Promise<number> {
  const template = await readFile(path.join(o.workspace, o.template!), 'utf8')
  const end = template.indexOf('\n---\n', 4)
  const maxTokens = Number(/^max_tokens:\s*(\d+)/m.exec(template.slice(4, end))?.[1] ?? 1024)
  const body = template.slice(end + 5)
  const out = createWriteStream(spool)
  let n = 0
  for await (const row of createReadStream(path.join(o.workspace, o.data!)).pipe(parse({ columns: true })) as AsyncIterable<Record<string, string>>) {
    const content = body.replace(/\{\{(\w+)\}\}/g, (_, name: string) => row[name] ?? '')
    await writeLine(out, JSON.stringify({ custom_id: `r${n++}`, params: { model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content }] } }) + '\n')
  }
  await closeStream(out)
  return n
}

async function dataRound(o: Options): Promise<void> {
  mark('start')
  const spool = path.join(o.temp, 'requests.jsonl')
  const rows = await readData(o, spool)
  mark('read')
  const ids = await postBatches(o, spool)
  mark('submit')
  await waitEnded(o, ids)
  const answers = new Array<string>(rows)
  const raw = createWriteStream(path.join(o.temp, 'results.jsonl'))
  await streamResults(o, ids, raw, (line) => {
    answers[Number(line.custom_id.slice(1))] = line.result.type === 'succeeded' ? textOf(line) : ''
    return Promise.resolve()
  })
  await closeStream(raw)
  const target = path.join(o.workspace, o.outDir!, path.basename(o.data!))
  await mkdir(path.dirname(target), { recursive: true })
  const out = createWriteStream(target)
  const csv = stringify()
  csv.pipe(out)
  let i = -1
  for await (const row of createReadStream(path.join(o.workspace, o.data!)).pipe(parse()) as AsyncIterable<string[]>) {
    if (!csv.write(i < 0 ? [...row, 'output'] : [...row, answers[i]!])) await once(csv, 'drain')
    i++
  }
  csv.end()
  await once(out, 'finish')
  mark('write')
}

async function dataPlan(o: Options): Promise<void> {
  mark('start')
  const spool = path.join(o.temp, 'requests.jsonl')
  const rows = await readData(o, spool)
  // Cut into batches as a plan does: the byte offset where each batch starts, read off the spool.
  const starts: number[] = []
  let n = 0
  let offset = 0
  for await (const line of createInterface({ input: createReadStream(spool), crlfDelay: Infinity })) {
    if (n++ % MAX_PER_BATCH === 0) starts.push(offset)
    offset += Buffer.byteLength(line) + 1
  }
  mark('read')
  process.stdout.write(`floor:batches ${starts.length} of ${rows} rows\n`)
}

async function collect(o: Options): Promise<void> {
  mark('start')
  const manifests = (await readdir(o.stateDir!, { recursive: true })).filter((f) => path.basename(f).startsWith('claude-batch-manifest-') && f.endsWith('.json'))
  if (manifests.length !== 1) throw new Error(`expected one manifest under ${o.stateDir}, found ${manifests.length}`)
  const manifest = JSON.parse(await readFile(path.join(o.stateDir!, manifests[0]!), 'utf8')) as { batches: Array<{ id: string }>; requests: Array<[string, ...unknown[]]> }
  const outputs = new Map<string, string>()
  for (const row of manifest.requests) if (typeof row[6] === 'string') outputs.set(row[0], row[6])
  mark('read')
  const ids = [...new Set(manifest.batches.map((b) => b.id))]
  await waitEnded(o, ids)
  const written = await writeFiles(o, ids, (id) => outputs.get(id))
  if (written !== outputs.size) throw new Error(`wrote ${written} of ${outputs.size}`)
  mark('write')
}

async function lockCheck(o: Options): Promise<void> {
  mark('start')
  const files = await listFiles(o.workspace, 'prompts')
  const hashes = await mapLimit(files, 64, async (f) =>
    createHash('sha256')
      .update(await readFile(path.join(o.workspace, f)))
      .digest('hex')
  )
  const lock = JSON.parse(await readFile(path.join(o.workspace, o.lockFile!), 'utf8')) as Record<string, unknown>
  process.stdout.write(`floor:checked ${hashes.length} files against ${Object.keys(lock).length} entries\n`)
  mark('read')
}

const MODES: Record<string, (o: Options) => Promise<void>> = { 'prompt-round': promptRound, 'data-round': dataRound, 'data-plan': dataPlan, collect, 'lock-check': lockCheck }

const [mode, json] = process.argv.slice(2)
const run = MODES[mode ?? '']
if (!run || !json) {
  console.error(`usage: floor.js <${Object.keys(MODES).join('|')}> '<json options>'`)
  process.exit(2)
}
const options = JSON.parse(json) as Options
await mkdir(options.temp, { recursive: true })
await writeFile(path.join(options.temp, 'floor-mode'), mode!)
await run(options)
