import path from 'node:path'
import { open, type FileHandle } from 'node:fs/promises'
import type { Anthropic } from '@anthropic-ai/sdk'
import type { MessageBatchIndividualResponse } from '../anthropic/client.js'
import { openResults } from '../anthropic/results.js'
import { CostTally } from '../cost/cost.js'
import type { PriceOverrides } from '../cost/prices.js'
import type { Plan } from '../plan/plan.js'
import { toWorkspacePath } from '../paths/index.js'
import { writeFileAtomic } from './atomic.js'

/** What happened to each request, by its index in the plan. */
export const Outcome = { pending: 0, succeeded: 1, errored: 2, canceled: 3, expired: 4 } as const
export type OutcomeName = Exclude<keyof typeof Outcome, 'pending'>
const NAMES: Record<number, OutcomeName> = { 1: 'succeeded', 2: 'errored', 3: 'canceled', 4: 'expired' }

// Messages about single requests are kept for the report; past this many only the counts grow.
const MAX_NOTES = 1_000
// A stream cut midway is started again from the top this many times.
const STREAM_ATTEMPTS = 3

/** The raw result lines of every batch of the run, appended to one JSONL file. */
class ResultsFile {
  private size = 0
  private constructor(private readonly handle: FileHandle) {}

  static async create(file: string): Promise<ResultsFile> {
    return new ResultsFile(await open(file, 'w+'))
  }

  get offset(): number {
    return this.size
  }

  async append(line: string): Promise<{ offset: number; bytes: number }> {
    const buffer = Buffer.from(line + '\n')
    const at = { offset: this.size, bytes: buffer.length - 1 }
    await this.handle.write(buffer, 0, buffer.length, this.size)
    this.size += buffer.length
    return at
  }

  async truncate(offset: number): Promise<void> {
    await this.handle.truncate(offset)
    this.size = offset
  }

  async read(at: { offset: number; bytes: number }): Promise<string> {
    const buffer = Buffer.alloc(at.bytes)
    await this.handle.read(buffer, 0, at.bytes, at.offset)
    return buffer.toString('utf8')
  }

  close(): Promise<void> {
    return this.handle.close()
  }
}

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
  truncated = 0
  unknownIds = 0

  private readonly index = new Map<string, number>()
  /** Where each data row's result line lies in the results file, until the data file is written. */
  readonly dataLines = new Map<number, { offset: number; bytes: number }>()

  private constructor(
    private readonly plan: Plan,
    private readonly workspace: string,
    private readonly file: ResultsFile,
    readonly resultsPath: string,
    private readonly prices: PriceOverrides
  ) {
    this.outcomes = new Uint8Array(plan.requests.length)
    this.costs = new CostTally(prices)
    plan.requests.forEach((r, i) => this.index.set(r.customId, i))
  }

  static async create(options: { plan: Plan; workspace: string; resultsPath: string; prices: PriceOverrides }): Promise<ResultCollector> {
    const file = await ResultsFile.create(options.resultsPath)
    return new ResultCollector(options.plan, options.workspace, file, options.resultsPath, options.prices)
  }

  /** Streams one ended batch's results. A stream cut midway is started again, undoing its partial lines. */
  async collect(client: Anthropic, batchId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const start = this.file.offset
      const batch = new BatchTally(this.prices)
      try {
        for await (const line of await openResults(client, batchId)) await this.take(line, batch)
        batch.mergeInto(this)
        return
      } catch (error) {
        if (attempt >= STREAM_ATTEMPTS || !isCutStream(error)) throw error
        await this.file.truncate(start)
      }
    }
  }

  /** Reads back a data row's result (kept on disk so that 100,000 texts are never held at once). */
  async dataRowText(requestIndex: number): Promise<string | undefined> {
    const at = this.dataLines.get(requestIndex)
    if (!at) return undefined
    const line = JSON.parse(await this.file.read(at)) as MessageBatchIndividualResponse
    return line.result.type === 'succeeded' ? textOf(line) : undefined
  }

  close(): Promise<void> {
    return this.file.close()
  }

  outcomeOf(index: number): OutcomeName | 'pending' {
    return NAMES[this.outcomes[index]!] ?? 'pending'
  }

  private async take(line: MessageBatchIndividualResponse, batch: BatchTally): Promise<void> {
    const at = await this.file.append(JSON.stringify(line))
    const i = this.index.get(line.custom_id)
    if (i === undefined) {
      batch.unknownIds++
      return
    }
    const request = this.plan.requests[i]!
    const result = line.result
    this.outcomes[i] = Outcome[result.type]
    batch.counts[result.type]++
    if (result.type === 'succeeded') {
      const message = result.message
      batch.costs.add(message.model, message.usage)
      if (message.stop_reason === 'max_tokens') {
        batch.truncated++
        this.note(i, `cut off at max_tokens (${request.maxTokens})`)
      }
      if (request.output?.kind === 'file') await this.writeOutput(request.output.path, textOf(line))
      else if (request.output?.kind === 'data-row') this.dataLines.set(i, at)
    } else if (result.type === 'errored') {
      const error = result.error.error as { type?: string; message?: string }
      this.note(i, `${error.type ?? 'error'}: ${error.message ?? 'no message'}`)
    }
  }

  private note(index: number, text: string): void {
    if (this.notes.size < MAX_NOTES || this.notes.has(index)) this.notes.set(index, text)
  }

  private async writeOutput(relative: string, text: string): Promise<void> {
    // Checked again here, not only when planning: nothing is ever written outside the workspace.
    if (toWorkspacePath(this.workspace, relative) !== relative) throw new Error(`refusing to write outside the workspace: ${relative}`)
    await writeFileAtomic(path.join(this.workspace, relative), text.endsWith('\n') ? text : text + '\n')
    this.written.add(relative)
  }
}

/** One batch's share of the tallies, merged only once its stream was read to the end. */
class BatchTally {
  readonly counts: Record<OutcomeName, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  readonly costs: CostTally
  truncated = 0
  unknownIds = 0

  constructor(prices: PriceOverrides) {
    this.costs = new CostTally(prices)
  }

  mergeInto(run: ResultCollector): void {
    for (const key of Object.keys(this.counts) as OutcomeName[]) run.counts[key] += this.counts[key]
    run.costs.merge(this.costs)
    run.truncated += this.truncated
    run.unknownIds += this.unknownIds
  }
}

/** The generated text of a succeeded result: its text blocks, in order. */
export function textOf(line: MessageBatchIndividualResponse): string {
  if (line.result.type !== 'succeeded') return ''
  return line.result.message.content
    .map((block) => (block.type === 'text' ? block.text : ''))
    .join('')
}

// The SDK does not retry a results stream that breaks midway; undici reports it as "terminated".
function isCutStream(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : ''
  return /terminated|socket|ECONNRESET|other side closed|aborted/i.test(message)
}
