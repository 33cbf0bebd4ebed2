/**
 * The workspace boundary: workspace-relative paths in, checked absolute paths out. Every file a
 * source reads goes through here, so a `..` or a symbolic link cannot lead a run outside the repository.
 */
import path from 'node:path'
import { readFile, realpath, stat } from 'node:fs/promises'

export interface Workspace {
  /** The workspace as given, made absolute. Glob matches are under it. */
  root: string
  /** The workspace with symbolic links resolved, for containment checks. */
  real: string
}

export async function openWorkspace(dir: string): Promise<Workspace> {
  const root = path.resolve(dir)
  let real = root
  try {
    real = await realpath(root)
  } catch {
    // A missing workspace matches nothing; the containment checks still work on the given path.
  }
  return { root, real }
}

/** `a\b` style separators of the host become `/`; on POSIX this is the identity. */
export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/')
}

export function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep)
}

/**
 * Checks a path or glob pattern the user wrote, relative to the workspace. Returns the normalized
 * POSIX form (no `./`, no `..` that stays inside) or a message saying what to change.
 */
export function checkRelative(
  ws: Workspace,
  value: string,
  what: string
): { rel: string; error?: undefined } | { rel?: undefined; error: string } {
  if (path.isAbsolute(value) || path.posix.isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value)) {
    const inside = path.relative(ws.root, value)
    const hint =
      inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? ` Write it as \`${toPosix(inside)}\`.` : ''
    return { error: `${what} is an absolute path: write it relative to the workspace.${hint}` }
  }
  const normalized = path.posix.normalize(value)
  if (normalized === '..' || normalized.startsWith('../')) {
    return { error: `${what} leaves the workspace: paths must stay inside the repository.` }
  }
  const rel = normalized === '.' || normalized === './' ? '' : normalized.replace(/^\.\//, '')
  return { rel }
}

export type Resolved =
  | { abs: string; real: string; error?: undefined }
  | { error: 'missing' | 'outside' | 'directory' | 'unreadable'; detail?: string }

/** Resolves a workspace-relative path to a readable file inside the workspace. */
export async function resolveFile(ws: Workspace, rel: string): Promise<Resolved> {
  const abs = path.resolve(ws.root, rel)
  let real: string
  try {
    real = await realpath(abs)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? { error: 'missing' } : { error: 'unreadable', detail: String(error) }
  }
  if (!isInside(ws.real, real)) return { error: 'outside' }
  try {
    if ((await stat(real)).isDirectory()) return { error: 'directory' }
  } catch (error) {
    return { error: 'unreadable', detail: String(error) }
  }
  return { abs, real }
}

export const NOT_UTF8 = 'This file is not valid UTF-8: the bytes that are not were replaced by "\uFFFD". Save it as UTF-8.'

/**
 * A whole (small) text file as UTF-8, without a byte order mark. Bytes that are not UTF-8 (a file
 * saved as UTF-16 or Latin-1) become U+FFFD and `onInvalid` is called, so the user can be warned.
 */
export async function readText(abs: string, onInvalid?: () => void): Promise<string> {
  const bytes = await readFile(abs)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    onInvalid?.()
    text = new TextDecoder('utf-8').decode(bytes)
  }
  return stripBom(text)
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}
