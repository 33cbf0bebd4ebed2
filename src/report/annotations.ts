import * as core from '@actions/core'
import type { Problem } from '../sources/types.js'

// GitHub shows only the first few annotations of a step; past this many the rest are summarised in
// one line rather than flooding the log.
export const MAX_ANNOTATIONS = 50

/** Annotates problems on their files (workspace-relative paths, which GitHub places in the diff view). */
export function annotate(level: 'error' | 'warning' | 'notice', items: readonly Problem[], title = 'claude-batch-action'): void {
  const send = level === 'error' ? core.error : level === 'warning' ? core.warning : core.notice
  for (const p of items.slice(0, MAX_ANNOTATIONS)) {
    send(p.message, { title, file: p.file, startLine: p.line, startColumn: p.line ? p.column : undefined })
  }
  if (items.length > MAX_ANNOTATIONS) {
    send(`…and ${items.length - MAX_ANNOTATIONS} more; see the job summary.`, { title })
  }
}

/** `file:line`, as people read it in logs and tables. */
export function where(p: { file?: string; line?: number }): string {
  if (!p.file) return ''
  return p.line ? `${p.file}:${p.line}` : p.file
}
