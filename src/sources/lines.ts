/**
 * Line-by-line reading for JSONL files of any size: only the current chunk and line are held.
 */
import { createReadStream } from 'node:fs'

export interface Line {
  text: string
  /** 1-based line number. */
  line: number
}

/** Yields every line of a UTF-8 file (without `\n` / `\r\n`; the BOM of the first line removed). */
export async function* readLines(abs: string): AsyncGenerator<Line> {
  const stream = createReadStream(abs, { encoding: 'utf8' })
  let pending = ''
  let line = 0
  let first = true
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = pending + chunk
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
        first = false
      }
      let start = 0
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        yield { text: withoutCr(text.slice(start, nl)), line: ++line }
        start = nl + 1
      }
      pending = text.slice(start)
    }
    if (pending !== '') yield { text: withoutCr(pending), line: ++line }
  } finally {
    stream.destroy()
  }
}

function withoutCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text
}

/** 1-based line of character `index` in `text`. */
export function lineAt(text: string, index: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++
  return line
}
