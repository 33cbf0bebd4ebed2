import * as core from '@actions/core'
import type { Problem } from '../sources/types.js'
import { info } from './log.js'

/**
 * The one way to raise an annotation (error, warning, notice) or fail the step. A test forbids
 * core.error/warning/notice/setFailed anywhere else in src/, so the cap below cannot be bypassed.
 *
 * GitHub shows at most 10 error, 10 warning and 10 notice annotations a step and drops the rest
 * silently. So each level has 10 slots, given most useful first:
 *   1. annotations about the whole run (no file: a batch, a record, an input) and the failure of the
 *      step (`fail`, what core.setFailed did) are emitted as they are raised, so that a step killed
 *      midway (timeout-minutes) has still said them; 8 of them at most, so that 2 slots stay free
 *      for the failure and a closing count;
 *   2. annotations on files are many and alike: they are queued and emitted at the end of the step
 *      (`flushAnnotations`, called by main.ts) by path, then line, in the slots left; with those
 *      of group 1 that found no slot first.
 * When some do not fit, the last slot says "…and N more: see the job summary", and the job summary
 * lists every one (also called by flushAnnotations). Each annotation is also logged as a plain line
 * when it is raised, so the log keeps its place in the story, and the ones GitHub would not show.
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
  /** It says why the step fails. */
  failure?: boolean
  /** Emitted when raised (see the top of this file). */
  emitted?: boolean
}

/** What GitHub shows of each level in a step. */
export const SHOWN_PER_LEVEL = 10
// Run-wide annotations emitted as raised, at most: one slot stays for the failure, one for the closing count.
const AT_ONCE = SHOWN_PER_LEVEL - 2

const queue: Annotation[] = []

function raise(a: Annotation): void {
  // Exact repeats (a problem that is also the failure message, say) would use a slot for nothing.
  if (queue.some((q) => q.level === a.level && q.message === a.message && q.file === a.file && q.line === a.line)) return
  queue.push(a)
  const now = queue.filter((q) => q.level === a.level && q.emitted).length
  if (!a.file && now < (a.failure ? SHOWN_PER_LEVEL - 1 : AT_ONCE)) {
    a.emitted = true
    emit(a)
    return
  }
  // Queued: a plain line now keeps its place in the log (and keeps it if GitHub will not show it).
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

/** Fails the step (exit code 1) and says why, at once: what core.setFailed does, within the cap. */
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
  of.sort((x, y) => rank(x.a) - rank(y.a) || (x.a.file && y.a.file ? compare(x.a.file, y.a.file) || (x.a.line ?? 0) - (y.a.line ?? 0) : 0) || x.i - y.i)
  return of.map(({ a }) => a)
}

/**
 * What is left to show of one level at the end of the step: all of it when it fits in the slots
 * the annotations emitted at once left, else one less and a count of the rest.
 */
export function shown(level: Level, all: readonly Annotation[] = queue): { shown: Annotation[]; more: number } {
  const list = ordered(level, all)
  const pending = list.filter((a) => !a.emitted)
  const slots = SHOWN_PER_LEVEL - (list.length - pending.length)
  if (pending.length <= slots) return { shown: pending, more: 0 }
  return { shown: pending.slice(0, slots - 1), more: pending.length - (slots - 1) }
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
  for (const level of ['error', 'warning', 'notice'] as const) {
    const { shown: list, more } = shown(level)
    for (const a of list) emit(a)
    if (more) emit({ level, message: `…and ${more} more ${level === 'error' ? 'errors' : `${level}s`}: see the job summary.`, title: 'claude-batch-action' })
  }
  queue.length = 0
}

function emit(a: Annotation): void {
  const send = { error: core.error, warning: core.warning, notice: core.notice }[a.level]
  send(a.message, properties(a))
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
