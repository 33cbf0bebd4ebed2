import * as core from '@actions/core'
import type { Problem } from '../sources/types.js'
import { info } from './log.js'

/**
 * The one way to raise an annotation (error, warning, notice) or fail the step. A test forbids
 * core.error/warning/notice/setFailed anywhere else in src/, so the cap below cannot be bypassed.
 *
 * GitHub shows at most 10 error, 10 warning and 10 notice annotations a step and drops the rest
 * silently. So annotations are queued while the command runs and emitted once, at the end of the
 * step (`flushAnnotations`, called by main.ts), most useful first:
 *   1. the failure of the step (`fail`: why the step fails, as core.setFailed said it),
 *   2. annotations that belong to no file (about the whole run: a batch, a record, an input), in
 *      the order they were raised,
 *   3. annotations on files, by path then line: a reader walks the files in order.
 * Past 10 of a level, 9 are shown and the 10th says how many more there are; the job summary then
 * lists every one. Each annotation is also logged as a plain line when it is raised, so the log keeps
 * its place in the story (and keeps the ones GitHub would not show).
 */

export type Level = 'error' | 'warning' | 'notice'

/** Where an annotation points, and its title. Paths are workspace-relative, as GitHub places them in the diff. */
export interface At {
  title?: string
  file?: string
  line?: number
  column?: number
}

export interface Annotation extends At {
  level: Level
  message: string
  /** It says why the step fails: shown first. */
  failure?: boolean
}

/** What GitHub shows of each level in a step. */
export const SHOWN_PER_LEVEL = 10

const queue: Annotation[] = []

function raise(a: Annotation): void {
  // Exact repeats (a problem that is also the failure message, say) would use a slot for nothing.
  if (queue.some((q) => q.level === a.level && q.message === a.message && q.file === a.file && q.line === a.line)) return
  queue.push(a)
  const where = a.file ? ` (${a.file}${a.line ? `:${a.line}` : ''})` : ''
  info(`${a.failure ? 'Failed' : a.level[0]!.toUpperCase() + a.level.slice(1)}${a.title && !a.failure ? ` [${a.title}]` : ''}${where}: ${a.message}`)
}

export function warn(message: string, at: At = {}): void {
  raise({ level: 'warning', message, ...at })
}

export function notice(message: string, at: At = {}): void {
  raise({ level: 'notice', message, ...at })
}

export function reportError(message: string, at: At = {}): void {
  raise({ level: 'error', message, ...at })
}

/** Fails the step (exit code 1) and says why, first among the errors: what core.setFailed does, in order. */
export function fail(message: string): void {
  process.exitCode = 1
  raise({ level: 'error', message, failure: true })
}

/** Annotates problems on their files (workspace-relative paths, which GitHub places in the diff view). */
export function annotate(level: Level, items: readonly Problem[], title = 'claude-batch-action'): void {
  for (const p of items) raise({ level, message: p.message, title, file: p.file, line: p.line, column: p.line ? p.column : undefined })
}

/** The queued annotations of a level, most useful first (see the top of this file). */
export function ordered(level: Level, all: readonly Annotation[] = queue): Annotation[] {
  const of = all.map((a, i) => ({ a, i })).filter(({ a }) => a.level === level)
  const rank = (a: Annotation) => (a.failure ? 0 : a.file ? 2 : 1)
  of.sort(
    (x, y) =>
      rank(x.a) - rank(y.a) ||
      (x.a.file && y.a.file ? compare(x.a.file, y.a.file) || (x.a.line ?? 0) - (y.a.line ?? 0) : 0) ||
      x.i - y.i
  )
  return of.map(({ a }) => a)
}

/** What GitHub will show of one level: all of them, or the first 9 and a closing count. */
export function shown(level: Level, all: readonly Annotation[] = queue): { shown: Annotation[]; more: number } {
  const list = ordered(level, all)
  if (list.length <= SHOWN_PER_LEVEL) return { shown: list, more: 0 }
  return { shown: list.slice(0, SHOWN_PER_LEVEL - 1), more: list.length - (SHOWN_PER_LEVEL - 1) }
}

/** Every annotation raised so far, in the order of `ordered` (errors, then warnings, then notices). */
export function allAnnotations(): Annotation[] {
  return (['error', 'warning', 'notice'] as const).flatMap((level) => ordered(level))
}

/** Whether some annotation will not be shown by GitHub: the job summary must then list them all. */
export function overflowing(): boolean {
  return (['error', 'warning', 'notice'] as const).some((level) => shown(level).more > 0)
}

/**
 * Emits the queued annotations, capped as GitHub shows them, and empties the queue. `beforeEmit`
 * (the job summary's list of every annotation) runs first, when some would not be shown, so that
 * "see the job summary" is true; whatever it raises is emitted too.
 */
export async function flushAnnotations(beforeEmit?: (all: Annotation[]) => Promise<void>): Promise<void> {
  if (beforeEmit && overflowing()) await beforeEmit(allAnnotations())
  const send = { error: core.error, warning: core.warning, notice: core.notice }
  for (const level of ['error', 'warning', 'notice'] as const) {
    const { shown: list, more } = shown(level)
    for (const a of list) send[level](a.message, properties(a))
    if (more) send[level](`…and ${more} more ${level === 'error' ? 'errors' : `${level}s`}: see the job summary.`, { title: 'claude-batch-action' })
  }
  queue.length = 0
}

/** The annotation's properties, only those it has: `::error::x`, not `::error ::x`. */
function properties(a: Annotation): core.AnnotationProperties {
  const all: core.AnnotationProperties = { title: a.title, file: a.file, startLine: a.file ? a.line : undefined, startColumn: a.file && a.line ? a.column : undefined }
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined))
}

/** `file:line`, as people read it in logs and tables. */
export function where(p: { file?: string; line?: number }): string {
  if (!p.file) return ''
  return p.line ? `${p.file}:${p.line}` : p.file
}

// Code-point order: the same on every machine, unlike localeCompare.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
