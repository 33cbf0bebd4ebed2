/**
 * Keeping problem lists readable: a mistake repeated on 10,000 rows is reported once with a count,
 * not 10,000 times.
 */
import type { Problem, SourceContext } from './types.js'

/** How many rows of one file share one mistake: the first few row numbers, the first line and a count. */
export class RowTally {
  private readonly entries = new Map<string, { rows: number[]; line?: number; count: number }>()

  add(key: string, row: number, line?: number): void {
    const entry = this.entries.get(key)
    if (!entry) {
      this.entries.set(key, { rows: [row], line, count: 1 })
    } else {
      if (entry.rows.length < SHOWN_ROWS) entry.rows.push(row)
      entry.count++
    }
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  /** Each mistake once: `rows` reads like "row 3" or "rows 3, 7, 9, 11, 15 and 95 more". */
  *[Symbol.iterator](): Generator<{ key: string; rows: string; line?: number; count: number }> {
    for (const [key, entry] of this.entries) {
      yield { key, rows: describeRows(entry.rows, entry.count), line: entry.line, count: entry.count }
    }
  }
}

const SHOWN_ROWS = 5

export function describeRows(rows: readonly number[], count: number): string {
  if (count === 1) return `row ${rows[0]}`
  const more = count - rows.length
  if (more > 0) return `rows ${rows.join(', ')} and ${more} more`
  return `rows ${rows.slice(0, -1).join(', ')} and ${rows[rows.length - 1]}`
}

/**
 * Reports the first `limit` problems of each kind in one file individually (each with its line),
 * then one problem saying how many more there were.
 */
export class LimitedProblems {
  private readonly counts = new Map<string, number>()

  constructor(
    private readonly ctx: SourceContext,
    private readonly file: string,
    private readonly limit = 20
  ) {}

  report(kind: string, problem: Problem): void {
    const n = (this.counts.get(kind) ?? 0) + 1
    this.counts.set(kind, n)
    if (n <= this.limit) this.ctx.problem(problem)
  }

  /** Reports what was left out. Call once the file is done. */
  finish(): void {
    for (const [kind, n] of this.counts) {
      if (n > this.limit) {
        this.ctx.problem({ file: this.file, message: `${n - this.limit} more lines with the same mistake (${kind}) are not listed.` })
      }
    }
  }
}

/** `"a", "b", "c"` */
export function quoteList(items: Iterable<string>): string {
  const list = [...items].map((s) => JSON.stringify(s))
  return list.length ? list.join(', ') : '(none)'
}

/** A context whose `failed` turns true once a problem is reported through it. */
export function watched(ctx: SourceContext): SourceContext & { readonly failed: boolean } {
  let failed = false
  return {
    workspace: ctx.workspace,
    outputDir: ctx.outputDir,
    defaults: ctx.defaults,
    problem(p: Problem): void {
      failed = true
      ctx.problem(p)
    },
    warning(p: Problem): void {
      ctx.warning(p)
    },
    get failed() {
      return failed
    }
  }
}
