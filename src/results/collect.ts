import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import type { Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatchIndividualResponse } from '../anthropic/client.js'
import { openResults } from '../anthropic/results.js'
import { CostTally } from '../cost/cost.js'
import type { PriceOverrides } from '../cost/prices.js'
import type { Plan } from '../plan/plan.js'
import { writeOutputFile } from './atomic.js'
import { prettyJson, ReplyValidator } from './validate.js'
import type { Distribution } from './data-output.js'
import { TextSpool } from './text-spool.js'
import { InFlight } from './in-flight.js'

/** What happened to each request, by its index in the plan. */
export const Outcome = { pending: 0, succeeded: 1, errored: 2, canceled: 3, expired: 4 } as const
export type OutcomeName = Exclude<keyof typeof Outcome, 'pending'>
const NAMES: Record<number, OutcomeName> = { 1: 'succeeded', 2: 'errored', 3: 'canceled', 4: 'expired' }

// Messages about single requests are kept for the report; past this many only the counts grow.
const MAX_NOTES = 1_000
// Output files written at once: each write is a few file-system calls, and one at a time would
// leave the main thread waiting on each (the file system's thread pool has 4 threads).
const WRITES_IN_FLIGHT = 32
// A stream cut midway is started again from the top this many times.
const STREAM_ATTEMPTS = 3

/** The raw result lines of every batch of the run, appended to one JSONL file. */
class ResultsFile {
  private size = 0
  private pending: Buffer[] = []
  private pendingBytes = 0
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string
  ) {}

  static async create(file: string): Promise<ResultsFile> {
    return new ResultsFile(await open(file, 'w+'), file)
  }

  get offset(): number {
    return this.size + this.pendingBytes
  }

  /** Appends a line; writes are gathered into large ones, since there can be 100,000 lines. */
  async append(line: string): Promise<void> {
    const buffer = Buffer.from(line + '\n')
    this.pending.push(buffer)
    this.pendingBytes += buffer.length
    if (this.pendingBytes >= 1 << 20) await this.flush()
  }

  async flush(): Promise<void> {
    if (!this.pendingBytes) return
    const buffer = Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    await this.handle.write(buffer, 0, buffer.length, this.size)
    this.size += buffer.length
  }

  async truncate(offset: number): Promise<void> {
    await this.flush()
    await this.handle.truncate(offset)
    this.size = offset
  }

  /** The lines from `offset` to the end. */
  async *linesFrom(offset: number): AsyncGenerator<string> {
    await this.flush()
    if (offset >= this.size) return
    // Split by hand: readline's async iterator does not hold the file back while each line is
    // being written out, and would queue every line of a 100,000-line batch in memory.
    let rest: Buffer = Buffer.alloc(0)
    for await (const chunk of createReadStream(this.path, { start: offset, end: this.size - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      let buffer: Buffer = rest.length ? Buffer.concat([rest, chunk]) : chunk
      for (let nl = buffer.indexOf(10); nl >= 0; nl = buffer.indexOf(10)) {
        yield buffer.toString('utf8', 0, nl)
        buffer = buffer.subarray(nl + 1)
      }
      rest = buffer
    }
  }

  async close(): Promise<void> {
    await this.flush()
    await this.handle.close()
  }
}

/** What reading a batch's results showed about whose batch it is. */
export type Verdict = { ours: true; chunk: number } | { ours: false; reason: string }

/** The results of a batch do not match what the submission sent: nothing was written from them. */
export class ResultsMismatchError extends Error {}

/**
 * Collects the results of a run's batches: streams each ended batch's result lines, matches them to
 * the plan by custom_id (their order is not kept), writes every succeeded text to its output file,
 * keeps every raw line in the results file and tallies outcomes, tokens and cost.
 */
export class ResultCollector {
  readonly outcomes: Uint8Array
  readonly counts: Record<OutcomeName, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  /** Why a request failed, or that its text was cut at max_tokens; by request index. */
  readonly notes = new Map<number, string>()
  readonly costs: CostTally
  /** Workspace-relative paths of the output files written, in the order written. */
  readonly written = new Set<string>()
  /** Value counts of the enum and boolean columns of each data file written with a schema (data-output.ts). */
  readonly distributions: Distribution[] = []
  truncated = 0

  private readonly index = new Map<string, number>()
  /** Replies whose request names a schema must fit it: one that does not counts as errored. */
  private readonly validator: ReplyValidator
  /** The texts of data rows, until the data file is written. */
  private readonly texts: TextSpool

  private constructor(
    private readonly plan: Plan,
    private readonly workspace: string,
    private readonly file: ResultsFile,
    readonly resultsPath: string,
    private readonly prices: PriceOverrides
  ) {
    this.outcomes = new Uint8Array(plan.requests.length)
    this.costs = new CostTally(prices)
    this.validator = new ReplyValidator(plan.schemas)
    this.texts = new TextSpool(`${resultsPath}.texts.tmp`, plan.requests.length)
    plan.requests.forEach((r, i) => this.index.set(r.customId, i))
  }

  static async create(options: { plan: Plan; workspace: string; resultsPath: string; prices: PriceOverrides }): Promise<ResultCollector> {
    const file = await ResultsFile.create(options.resultsPath)
    return new ResultCollector(options.plan, options.workspace, file, options.resultsPath, options.prices)
  }

  /**
   * Reads one ended batch's results into the results file, proves that they are exactly the result ids
   * one chunk of this submission sent (each once, none missing, none foreign), and only then writes
   * the outputs. A batch whose ids carry another tag is not this submission's: its lines are dropped
   * and nothing is written. A stream cut midway is started again, undoing its partial lines.
   */
  async collect(client: Anthropic, batchId: string, options: { verified: boolean; anyOf?: number }): Promise<Verdict> {
    const start = this.file.offset
    let verdict: Verdict
    for (let attempt = 1; ; attempt++) {
      try {
        verdict = await this.download(client, batchId, options.verified, options.anyOf)
        break
      } catch (error) {
        await this.file.truncate(start)
        if (attempt >= STREAM_ATTEMPTS || !isCutStream(error)) throw error
      }
    }
    if (!verdict.ours) {
      await this.file.truncate(start)
      return verdict
    }
    const batch = new BatchTally(this.prices)
    const writes = new InFlight(WRITES_IN_FLIGHT)
    try {
      for await (const line of this.file.linesFrom(start)) await this.take(JSON.parse(line) as MessageBatchIndividualResponse, batch, writes)
    } finally {
      // Every write has ended before anything else looks at the outputs (or removes the workspace).
      await writes.drain()
    }
    batch.mergeInto(this)
    if (verdict.chunk >= 0) this.collectedChunks.add(verdict.chunk)
    this.batchOfChunk.set(verdict.chunk, batchId)
    return verdict
  }

  /** Chunks whose batch has been proved and written. */
  readonly collectedChunks = new Set<number>()
  /** The batch each collected chunk came from, for the lock file. */
  readonly batchOfChunk = new Map<number, string>()

  /**
   * `anyOf` (a plan read again from the checkout, when the batch carried only some of its requests):
   * the results may be any `anyOf` requests of the plan, each once, rather than one whole chunk.
   */
  private async download(client: Anthropic, batchId: string, verified: boolean, anyOf?: number): Promise<Verdict> {
    const tag = `${this.plan.tag}_`
    let chunk: number | undefined
    let seen: Uint8Array | undefined
    let count = 0
    const mismatch = (why: string) => new ResultsMismatchError(`The results of ${batchId} do not match what this submission sent (${why}); nothing was written from them.`)
    for await (const line of await openResults(client, batchId)) {
      const id = typeof line?.custom_id === 'string' ? line.custom_id : ''
      if (!id.startsWith(tag)) {
        // Only a batch found after a lost create answer can be someone else's; one that create
        // answered with is this submission's, and foreign ids in it are a fault to report.
        if (chunk === undefined && !verified) return { ours: false, reason: `its results carry custom_ids of another submission (${JSON.stringify(id.slice(0, 20))}…)` }
        throw mismatch(`a result id without this submission's tag`)
      }
      const i = this.index.get(id)
      if (i === undefined) throw mismatch(`${JSON.stringify(id)} was never sent`)
      if (chunk === undefined && anyOf !== undefined) {
        chunk = -1
        seen = new Uint8Array(this.plan.requests.length)
      }
      if (chunk === -1) {
        if (seen![i]) throw mismatch(`${JSON.stringify(id)} appears twice`)
        seen![i] = 1
        count++
        await this.file.append(JSON.stringify(line))
        continue
      }
      if (chunk === undefined) {
        chunk = this.plan.chunks.findIndex((c) => i >= c.start && i < c.end)
        if (this.collectedChunks.has(chunk)) throw mismatch(`its requests were already collected from another batch`)
        seen = new Uint8Array(this.plan.chunks[chunk]!.end - this.plan.chunks[chunk]!.start)
      }
      const c = this.plan.chunks[chunk]!
      if (i < c.start || i >= c.end) throw mismatch(`${JSON.stringify(id)} belongs to another batch of the submission`)
      if (seen![i - c.start]) throw mismatch(`${JSON.stringify(id)} appears twice`)
      seen![i - c.start] = 1
      count++
      await this.file.append(JSON.stringify(line))
    }
    if (chunk === undefined) throw mismatch('no result lines')
    const expected = chunk === -1 ? anyOf! : this.plan.chunks[chunk]!.end - this.plan.chunks[chunk]!.start
    if (count !== expected) throw mismatch(`${count} result lines for ${expected} requests`)
    return { ours: true, chunk }
  }

  /**
   * The texts of succeeded data rows, for writing a data file: `order` gives the request of each
   * row (-1 for none), and `next()` the text of each in turn (undefined where there is none).
   */
  dataTexts(order: Int32Array): Promise<{ next: () => Promise<string | undefined> }> {
    return this.texts.reader(order)
  }

  async close(): Promise<void> {
    await Promise.all([this.file.close(), this.texts.close()])
  }

  outcomeOf(index: number): OutcomeName | 'pending' {
    return NAMES[this.outcomes[index]!] ?? 'pending'
  }

  private async take(line: MessageBatchIndividualResponse, batch: BatchTally, writes: InFlight): Promise<void> {
    const i = this.index.get(line.custom_id)!
    const request = this.plan.requests[i]!
    const result = line.result
    this.outcomes[i] = Outcome[result.type]
    batch.counts[result.type]++
    if (result.type === 'succeeded') {
      const message = result.message
      // Billed whether or not it fits its schema.
      batch.costs.add(message.model, message.usage)
      const checked = request.schema === undefined ? undefined : this.validator.check(request.schema, textOf(line), message.stop_reason, request.maxTokens)
      if (checked && !checked.ok) {
        // A reply that does not fit is a failed request: counted as errored, and nothing written.
        this.outcomes[i] = Outcome.errored
        batch.counts.succeeded--
        batch.counts.errored++
        this.note(i, checked.message)
        return
      }
      if (message.stop_reason === 'max_tokens') {
        batch.truncated++
        this.note(i, `cut off at max_tokens (${request.maxTokens})`)
      }
      if (request.output?.kind === 'file') {
        const file = request.output.path
        const text = checked ? prettyJson(checked.value) : textOf(line)
        await writes.add(() => this.writeOutput(i, file, text))
      } else if (request.output?.kind === 'data-row') await this.texts.add(i, textOf(line))
    } else if (result.type === 'errored') {
      const error = result.error.error as { type?: string; message?: string }
      this.note(i, `${error.type ?? 'error'}: ${error.message ?? 'no message'}`)
      if (error.type) this.errorTypes.set(i, error.type)
    }
  }

  private note(index: number, text: string): void {
    if (this.notes.size < MAX_NOTES || this.notes.has(index)) this.notes.set(index, text)
  }

  /** The API's error type of each errored request (retry-failed resends only transient ones). */
  readonly errorTypes = new Map<number, string>()

  /** Outputs that could not be written (the path changed since planning, a disk error): by request index. */
  readonly unwritten = new Map<number, string>()

  private async writeOutput(index: number, relative: string, text: string): Promise<void> {
    // The path rules are checked again at the moment of writing; one output that cannot be
    // written is reported on its source, and the others are still written.
    try {
      await writeOutputFile(this.workspace, relative, text.endsWith('\n') ? text : text + '\n')
      this.written.add(relative)
    } catch (error) {
      if (this.unwritten.size < MAX_NOTES) this.unwritten.set(index, (error as Error).message)
    }
  }
}

/** One batch's share of the tallies, merged only once its stream was read to the end. */
class BatchTally {
  readonly counts: Record<OutcomeName, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  readonly costs: CostTally
  truncated = 0

  constructor(prices: PriceOverrides) {
    this.costs = new CostTally(prices)
  }

  mergeInto(run: ResultCollector): void {
    for (const key of Object.keys(this.counts) as OutcomeName[]) run.counts[key] += this.counts[key]
    run.costs.merge(this.costs)
    run.truncated += this.truncated
  }
}

/** The generated text of a succeeded result: its text blocks, in order. */
export function textOf(line: MessageBatchIndividualResponse): string {
  if (line.result.type !== 'succeeded') return ''
  return line.result.message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
}

// The SDK does not retry a results stream that breaks midway; undici reports it as "terminated".
function isCutStream(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined
  const message = error instanceof Error ? `${error.message} ${cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''}` : ''
  return /terminated|socket|ECONNRESET|other side closed|aborted/i.test(message)
}
