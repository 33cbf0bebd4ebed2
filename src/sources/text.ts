/**
 * Prompt, template and system prompt files are sent as text, so they must be UTF-8. A file saved as
 * UTF-16 (Windows editors do this) or a binary file decodes to garbage that would be sent, and paid
 * for, as the prompt; so either is an error naming the file, never a warning.
 */
import { readFile } from 'node:fs/promises'

export type TextOrError = { text: string; error?: undefined } | { text?: undefined; error: string }

/** Reads a whole (small) text file as UTF-8 without its byte order mark, or says why it is not UTF-8 text. */
export async function readUtf8File(abs: string, shownAs: string): Promise<TextOrError> {
  return decodeUtf8(await readFile(abs), shownAs)
}

export function decodeUtf8(bytes: Uint8Array, shownAs: string): TextOrError {
  const fix = 'save it as UTF-8'
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { error: `"${shownAs}" is saved as UTF-16 (or UTF-32), not UTF-8: ${fix}.` }
  }
  const nul = bytes.indexOf(0)
  if (nul !== -1) {
    return { error: `"${shownAs}" holds NUL bytes (line ${lineAt(bytes, nul)}): it is a binary file or UTF-16 text, not UTF-8. Name a text file, or ${fix}.` }
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text }
  } catch {
    return { error: `"${shownAs}" is not valid UTF-8 (line ${lineAt(bytes, firstInvalid(bytes))}; a Latin-1 or binary file?): ${fix}.` }
  }
}

/**
 * Offset of the first byte that makes the file invalid UTF-8: the longest prefix that decodes (a
 * prefix cut inside a character still counts as valid, thanks to `stream`) ends there.
 */
function firstInvalid(bytes: Uint8Array): number {
  let lo = 0
  let hi = bytes.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true })
      lo = mid
    } catch {
      hi = mid - 1
    }
  }
  return lo
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++
  return line
}
