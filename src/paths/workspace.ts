/**
 * The workspace boundary for reading: workspace-relative paths in, checked absolute paths out. Every
 * file the action reads (prompts, data, template, requests, the system prompt file) goes through
 * here, so a `..` or a symbolic link cannot lead a run outside the repository.
 */
import path from 'node:path'
import { realpath, stat } from 'node:fs/promises'

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
 * Resolves `p` (relative to the workspace, or absolute) to a workspace-relative POSIX path, or
 * undefined when it leaves the workspace. This is the lexical check; `realInside` also follows links.
 */
export function toWorkspacePath(workspace: string, p: string): string | undefined {
  const absolute = path.resolve(workspace, p)
  const relative = path.relative(path.resolve(workspace), absolute)
  if (relative === '') return '.'
  if (relative === '..' || relative.startsWith('..' + path.sep) || path.isAbsolute(relative)) return undefined
  return toPosix(relative)
}

/**
 * True when the workspace-relative path stays inside the workspace once symbolic links are
 * followed: a link inside the workspace that points elsewhere must not let a write escape.
 * Checks the nearest ancestor that exists, since the file itself may not exist yet.
 */
export async function realInside(workspace: string, relative: string): Promise<boolean> {
  const root = await realpath(workspace)
  let current = path.resolve(workspace, relative)
  for (;;) {
    try {
      return isInside(root, await realpath(current))
    } catch {
      const parent = path.dirname(current)
      if (parent === current) return false
      current = parent
    }
  }
}

/**
 * Checks a path or glob pattern the user wrote, relative to the workspace. Returns the normalized
 * POSIX form (no `./`, no `..` that stays inside) or a message saying what to change.
 */
export function checkRelative(ws: Workspace, value: string, what: string): { rel: string; error?: undefined } | { rel?: undefined; error: string } {
  const control = controlCharacter(value)
  if (control) return { error: `${what} contains ${control}: remove it.` }
  if (path.isAbsolute(value) || path.posix.isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value)) {
    const inside = path.relative(ws.root, value)
    const hint = inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? ` Write it as \`${toPosix(inside)}\`.` : ''
    return { error: `${what} is an absolute path: write it relative to the workspace.${hint}` }
  }
  const normalized = path.posix.normalize(value)
  if (normalized === '..' || normalized.startsWith('../')) {
    return { error: `${what} leaves the workspace: paths must stay inside the repository.` }
  }
  const rel = normalized === '.' || normalized === './' ? '' : normalized.replace(/^\.\//, '')
  return { rel }
}

/**
 * Names the first character of `value` that must never be in a path: a NUL byte (no file system
 * takes it) or another control character (a line break would start a new line in the log).
 */
export function controlCharacter(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const m = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(value)
  if (!m) return undefined
  const code = m[0].charCodeAt(0)
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  return code === 0 ? 'a NUL byte' : code === 10 || code === 13 ? `a line break (${hex})` : `a control character (${hex})`
}

export type Resolved = { abs: string; real: string; error?: undefined } | { error: 'missing' | 'outside' | 'directory' | 'unreadable'; detail?: string }

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

/** A file named by an input, once checked: its workspace-relative path, absolute path and real path. */
export interface InputFile {
  file: string
  abs: string
  real: string
}

/**
 * The one check for a file an input names (`data`, `template`, `requests`, `system-prompt-file`):
 * relative, inside the workspace once links are followed, an existing readable file. On failure,
 * the message says which input, which path (escaped) and what to change; `file` is set when the
 * problem can be annotated on the file itself.
 */
export async function resolveInputFile(ws: Workspace, input: string, value: string): Promise<InputFile | { error: { file?: string; message: string } }> {
  const shownValue = JSON.stringify(value)
  const checked = checkRelative(ws, value, `Input ${input}: ${shownValue}`)
  if (checked.error !== undefined) return { error: { message: checked.error } }
  const file = checked.rel
  const shown = JSON.stringify(file || value)
  const at = file || undefined
  const resolved = await resolveFile(ws, file)
  switch (resolved.error) {
    case undefined:
      return { file, abs: resolved.abs, real: resolved.real }
    case 'missing':
      return { error: { message: `Input ${input}: ${shown} does not exist. Check the path (it is relative to the repository root).` } }
    case 'outside':
      return { error: { file: at, message: `Input ${input}: ${shown} is a symbolic link to a file outside the workspace: name a file inside the repository.` } }
    case 'directory':
      return { error: { file: at, message: `Input ${input}: ${shown} is a directory: name a file.` } }
    default:
      return { error: { file: at, message: `Input ${input}: cannot read ${shown}: ${resolved.detail ?? resolved.error}` } }
  }
}

/**
 * A path to read that came from untrusted input (a manifest): workspace-relative, no control
 * character, inside the workspace once links are followed. The file need not exist.
 */
export async function confineRead(workspace: string, p: unknown, what: string): Promise<{ path: string; error?: undefined } | { error: string; path?: undefined }> {
  if (typeof p !== 'string' || p === '') return { error: `${what} is not a path.` }
  const control = controlCharacter(p)
  if (control) return { error: `${what} ${JSON.stringify(p)} contains ${control}.` }
  const relative = toWorkspacePath(workspace, p)
  if (relative === undefined || relative === '.' || !(await realInside(workspace, relative))) {
    return { error: `${what} ${JSON.stringify(p)} is outside the workspace.` }
  }
  return { path: relative }
}
