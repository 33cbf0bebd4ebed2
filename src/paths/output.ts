/**
 * The one set of rules for a path the action will write generated text to. Planning checks every
 * output with them before anything is spent; collection checks again the paths a manifest names
 * (a manifest is only a file someone uploaded); the write itself re-checks what can change in
 * between (`checkWritable`, used by `writeOutputFile`).
 *
 * An accepted path is workspace-relative and POSIX, and:
 * - has no NUL byte or other control character (they break file systems, or logs);
 * - names a file, not a directory (`dir/`, `dir/.`, `dir/..`);
 * - stays inside the workspace, lexically and once symbolic links are resolved;
 * - has no segment over 255 bytes of UTF-8, nor over 4,000 bytes in all;
 * - is not under `.git/` (any segment) nor `.github/` (first segment), compared as a
 *   case-insensitive file system (macOS, Windows) would, before and after resolving links;
 * - is not an existing directory and has no parent that is an existing file;
 * - is not one of the run's source files (prompt, template, data, requests, system prompt), by
 *   its own name or through a link, compared case-insensitively.
 */
import path from 'node:path'
import { lstat, realpath, stat } from 'node:fs/promises'
import { controlCharacter, isInside, toPosix, toWorkspacePath } from './workspace.js'

/** The longest file or folder name most file systems take (ext4, APFS, NTFS: 255). */
export const MAX_SEGMENT_BYTES = 255
/** Linux refuses paths of 4,096 bytes; the workspace prefix needs some of that. */
export const MAX_PATH_BYTES = 4000

export type OutputCheck = { path: string; real: string; error?: undefined } | { error: string; path?: undefined }

const q = (s: string): string => JSON.stringify(s)

/** Bytes of `s` in UTF-8. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/**
 * The rules that need no file system: returns the workspace-relative POSIX path or a message.
 * Pure, so it is the part property tests hammer.
 */
export function checkOutputSyntax(workspace: string, target: string): { path: string; error?: undefined } | { error: string; path?: undefined } {
  if (typeof target !== 'string' || target === '') return { error: 'An output path is empty: give it a file name.' }
  const control = controlCharacter(target)
  if (control) {
    return { error: `Output path ${q(target)} contains ${control}: file and folder names must not. Rename it.` }
  }
  const last = target.split(/[\\/]/).pop()!
  const separators = path.sep === '\\' ? /[\\/]$/ : /\/$/
  if (separators.test(target) || last === '.' || last === '..') {
    return { error: `Output path ${q(target)} names a directory, not a file. End it with a file name, e.g. ${q(target.replace(/[\\/.]+$/, '') + '/output.md')}.` }
  }
  const relative = toWorkspacePath(workspace, target)
  if (relative === undefined || relative === '.') {
    return { error: `Output path ${q(target)} is outside the workspace. Choose a path inside the repository.` }
  }
  const long = relative.split('/').find((s) => utf8Bytes(s) > MAX_SEGMENT_BYTES)
  if (long !== undefined) {
    const shown = long.length > 40 ? `${long.slice(0, 40)}…` : long
    return {
      error: `Output path ${q(target)} has a file or folder name of ${utf8Bytes(long)} bytes (${q(shown)}); file systems allow at most ${MAX_SEGMENT_BYTES}. Shorten it (or the file name, id or \`output\` it comes from).`
    }
  }
  if (utf8Bytes(relative) > MAX_PATH_BYTES) {
    return { error: `Output path ${q(target)} is ${utf8Bytes(relative)} bytes long; file systems allow about ${MAX_PATH_BYTES}. Shorten it.` }
  }
  const forbidden = forbiddenPlace(relative)
  if (forbidden) return { error: `Output path ${q(target)} ${forbidden}` }
  return { path: relative }
}

/**
 * Why a workspace-relative path is in a place generated text must never go, or undefined. `.git`
 * holds the repository itself (hooks run code); `.github` holds workflows and repository settings.
 */
export function forbiddenPlace(relative: string): string | undefined {
  const segments = relative.split('/').map(foldSegment)
  if (segments.includes('.git')) return 'is inside .git, the repository itself. Choose another output path.'
  if (segments[0] === '.github') {
    return 'is inside .github, where generated text could become a workflow or a repository setting. Choose another output path.'
  }
  return undefined
}

/**
 * A name as a case-insensitive file system may see it: lower case, without the characters macOS
 * ignores in names and without the trailing dots and spaces Windows drops (git refuses `.GIT`,
 * `.g\u200cit` and `.git.` for the same reason).
 */
export function foldSegment(segment: string): string {
  const visible = segment.replace(/[\u200b-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '')
  return (visible.replace(/[. ]+$/, '') || visible).toLowerCase()
}

/**
 * The run's source files, to be kept from being overwritten. Compared case-insensitively and by
 * real path too, so `Prompts/A.md` or a link to `prompts/` cannot reach one.
 */
export class SourceFiles {
  private constructor(
    private readonly byName: ReadonlyMap<string, string>,
    private readonly byReal: ReadonlyMap<string, string>
  ) {}

  static readonly none = new SourceFiles(new Map(), new Map())

  /**
   * `files` are workspace-relative POSIX paths; those that do not exist are kept by name only.
   * `known` gives the real path of a file already resolved while reading it (100,000 prompt files
   * need not be resolved twice); undefined means resolve it here.
   */
  static async of(workspace: string, files: Iterable<string>, known?: (relative: string) => string | undefined): Promise<SourceFiles> {
    const byName = new Map<string, string>()
    const byReal = new Map<string, string>()
    let root: string
    try {
      root = await realpath(workspace)
    } catch {
      root = path.resolve(workspace)
    }
    for (const file of files) {
      const relative = toWorkspacePath(workspace, file)
      if (relative === undefined || relative === '.') continue
      byName.set(fold(relative), relative)
      try {
        const real = known?.(relative) ?? (await realpath(path.resolve(workspace, relative)))
        if (isInside(root, real)) byReal.set(fold(toPosix(path.relative(root, real))), relative)
      } catch {
        // A source that does not exist (any more) cannot be written through a link.
      }
    }
    return new SourceFiles(byName, byReal)
  }

  /** The source an output would overwrite, by its name or by its real path. */
  find(output: { path: string; real?: string }): string | undefined {
    return this.byName.get(fold(output.path)) ?? (output.real === undefined ? undefined : this.byReal.get(fold(output.real)))
  }

  get size(): number {
    return this.byName.size
  }
}

function fold(relative: string): string {
  return relative.split('/').map(foldSegment).join('/')
}

export function sourceError(target: string, source: string): string {
  const which = source === target ? 'a source file' : `the source file ${q(source)}`
  return `Output path ${q(target)} would overwrite ${which} of this run (a prompt, template, data, requests or system prompt file). Choose another output-dir or \`output\`.`
}

/** The directory part of an output, resolved once: its real path relative to the workspace's, or why it cannot hold files. */
type DirCheck = { real: string; exists: boolean } | { error: (target: string) => string }

/**
 * Checks output paths against every rule. One checker per run: it caches each directory's
 * resolution, since thousands of outputs usually share a few folders.
 */
export class OutputRules {
  private readonly dirs = new Map<string, Promise<DirCheck>>()
  private root?: Promise<string>

  constructor(
    readonly workspace: string,
    private readonly sources: SourceFiles = SourceFiles.none
  ) {}

  async check(target: string): Promise<OutputCheck> {
    const syntax = checkOutputSyntax(this.workspace, target)
    if (syntax.error !== undefined) return syntax
    const relative = syntax.path
    const dir = await this.dir(path.posix.dirname(relative))
    if ('error' in dir) return { error: dir.error(target) }
    const real = dir.real === '' ? path.posix.basename(relative) : `${dir.real}/${path.posix.basename(relative)}`
    // A link inside the workspace may lead into .git or .github: check where it really goes.
    const forbidden = real === relative ? undefined : forbiddenPlace(real)
    if (forbidden) return { error: `Output path ${q(target)} leads through a symbolic link to ${q(real)}, which ${forbidden}` }
    if (dir.exists) {
      const problem = await targetProblem(path.resolve(this.workspace, relative))
      if (problem) return { error: `Output path ${q(target)} ${problem}` }
    }
    const source = this.sources.find({ path: relative, real })
    if (source !== undefined) return { error: sourceError(target, source) }
    return { path: relative, real }
  }

  private realRoot(): Promise<string> {
    this.root ??= realpath(this.workspace).catch(() => path.resolve(this.workspace))
    return this.root
  }

  private dir(relative: string): Promise<DirCheck> {
    let found = this.dirs.get(relative)
    if (!found) {
      found = this.realRoot().then((root) => resolveDir(this.workspace, root, relative))
      this.dirs.set(relative, found)
    }
    return found
  }
}

/** Checks one output path with a fresh checker (no cache, no sources unless given). */
export function checkOutputPath(workspace: string, target: string, sources?: SourceFiles): Promise<OutputCheck> {
  return new OutputRules(workspace, sources).check(target)
}

/**
 * Resolves a workspace-relative directory through its nearest existing ancestor: that ancestor
 * must be a directory inside the workspace once links are followed; the rest will be created.
 */
async function resolveDir(workspace: string, root: string, relative: string): Promise<DirCheck> {
  const missing: string[] = []
  let current = relative
  for (;;) {
    const abs = path.resolve(workspace, current)
    let real: string | undefined
    try {
      real = await realpath(abs)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && (await isLink(abs))) {
        return { error: (t) => `Output path ${q(t)} cannot be created: ${q(current)} is a symbolic link to something that does not exist. Remove the link or choose another path.` }
      }
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        const detail = code === 'ELOOP' ? 'a symbolic link loop' : String((error as Error).message)
        return { error: (t) => `Output path ${q(t)} cannot be checked: ${q(current)} gives ${detail}. Choose another path.` }
      }
    }
    if (real !== undefined) {
      if (!isInside(root, real)) {
        return { error: (t) => `Output path ${q(t)} is outside the workspace once symbolic links are followed (through ${q(current)}). Choose a path inside the repository.` }
      }
      let isDirectory = false
      try {
        isDirectory = (await stat(real)).isDirectory()
      } catch {
        // Gone in between: treated as not a directory.
      }
      if (!isDirectory) {
        return { error: (t) => `Output path ${q(t)} cannot be created: ${q(current)} is a file, not a folder. Choose another path, or move that file.` }
      }
      const base = toPosix(path.relative(root, real))
      return { real: [base, ...missing].filter(Boolean).join('/'), exists: missing.length === 0 }
    }
    if (current === '.' || current === '') {
      return { error: (t) => `Output path ${q(t)} cannot be checked: the workspace does not exist.` }
    }
    missing.unshift(path.posix.basename(current))
    current = path.posix.dirname(current)
  }
}

async function isLink(abs: string): Promise<boolean> {
  try {
    return (await lstat(abs)).isSymbolicLink()
  } catch {
    return false
  }
}

/** What is wrong with the output path itself, in a directory that exists: only a directory there is. */
async function targetProblem(abs: string): Promise<string | undefined> {
  try {
    // lstat: a link at the path is replaced by the rename, never followed.
    if ((await lstat(abs)).isDirectory()) return 'is an existing directory. Give the output a file name inside it, or another path.'
  } catch {
    // Absent: the usual case.
  }
  return undefined
}

/**
 * Re-checks, just before writing, the rules that can change after planning: links, an existing
 * directory at the path, a parent that is a file; and the syntax rules, which cost nothing.
 */
export function checkWritable(workspace: string, relative: string): Promise<OutputCheck> {
  return new OutputRules(workspace).check(relative)
}
