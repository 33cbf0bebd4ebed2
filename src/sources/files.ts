/**
 * The `prompts` input: glob patterns to prompt files, each file with the base directory its output
 * path is taken relative to. Matches are sorted by path so every run sees the same order.
 */
import path from 'node:path'
import { stat } from 'node:fs/promises'
import * as glob from '@actions/glob'
import type { SourceContext } from './types.js'
import { PROMPT_EXTENSIONS_TEXT, promptKind, withoutPromptExtension, type PromptKind } from './kinds.js'
import { checkRelative, isInside, resolveFile, toPosix, type Resolved, type Workspace } from '../paths/workspace.js'
import { mapOrdered, READ_CONCURRENCY } from './ordered.js'
import { nodeReadFs, type ReadFs } from './read-fs.js'

export interface PromptFile {
  /** Workspace-relative POSIX path, as matched (a link's own path, not its target). */
  file: string
  kind: PromptKind
  /** The pattern's directory before its first wildcard (`D`); outputs mirror the tree below it. */
  base: string
  /** The real path, only where links make it other than the workspace's real path joined with `file`. */
  real?: string
}

export interface FindOptions {
  isDefault: boolean
  /** `data` or `requests` is set, so an empty default `prompts` is fine. */
  otherSources: boolean
  /** Workspace-relative paths of the data, template and requests files: never prompts themselves. */
  reserved: ReadonlySet<string>
  /** The same files with links resolved. */
  reservedReal: ReadonlySet<string>
  /** The file-system calls (a test counts them); Node's by default. */
  fs?: ReadFs
}

const WILDCARD = /[*?[{]/

/**
 * Expands the patterns (`!pattern` lines exclude), in the order written; within a pattern files
 * come sorted by path. A file several patterns match belongs to the first.
 */
export async function findPromptFiles(patterns: readonly string[], ws: Workspace, ctx: SourceContext, options: FindOptions): Promise<PromptFile[]> {
  const what = (p: string): string => `Pattern \`${p}\` (input prompts)`
  const include: Array<{ written: string; rel: string }> = []
  const exclude: string[] = []
  for (const written of patterns) {
    const negated = written.startsWith('!')
    const body = negated ? written.slice(1).trim() : written.trim()
    if (!body) continue
    const checked = checkRelative(ws, body, what(written))
    if (checked.error !== undefined) {
      ctx.problem({ message: checked.error })
      continue
    }
    if (negated) exclude.push(checked.rel)
    else include.push({ written, rel: checked.rel })
  }

  const seen = new Set<string>()
  const files: PromptFile[] = []
  const resolver = new Resolver(ws, options.fs ?? nodeReadFs)
  for (const { written, rel: given } of include) {
    let rel = given
    // A directory, written plainly or with a trailing slash, means the files in it.
    if (rel === '' || rel.endsWith('/') || (!WILDCARD.test(rel) && (await isDirectory(path.resolve(ws.root, rel))))) {
      rel = path.posix.join(rel.replace(/\/+$/, ''), '**/*')
    }
    const literal = !WILDCARD.test(rel)
    const base = globBase(rel)

    let matches: string[]
    try {
      matches = await expand(rel, exclude, ws)
    } catch (error) {
      ctx.problem({ message: `${what(written)} could not be read: ${(error as Error).message}` })
      continue
    }

    // Which matches are prompt files is known from their names alone; checking each one on disk
    // (links, directories) runs many at a time, and its verdicts are taken in path order.
    let matched = 0
    const candidates: Array<{ file: string; kind: PromptKind | undefined }> = []
    for (const file of matches) {
      // Dotfiles (.gitkeep) and dot-directories below the base are not prompts, unless named exactly.
      const below = base ? path.posix.relative(base, file) : file
      if (!literal && below.split('/').some((s) => s.startsWith('.'))) continue
      matched++
      if (seen.has(file)) continue
      seen.add(file)
      if (options.reserved.has(file)) continue
      candidates.push({ file, kind: promptKind(file) })
    }
    const check = async ({ file, kind }: (typeof candidates)[number]) => ({ file, kind, resolved: kind ? await resolver.resolve(file) : undefined })
    for await (const { file, kind, resolved } of mapOrdered(candidates, READ_CONCURRENCY, check)) {
      if (!kind || !resolved) {
        ctx.warning({ file, message: `Skipped: not a prompt file (expected ${PROMPT_EXTENSIONS_TEXT}).` })
      } else if (resolved.error === 'missing') {
        ctx.problem({ file, message: 'Cannot read this prompt file: it is a symbolic link to a file that does not exist.' })
      } else if (resolved.error === 'outside') {
        ctx.problem({ file, message: 'This prompt file is a symbolic link to a file outside the workspace: prompt files must be inside the repository.' })
      } else if (resolved.error === 'directory') {
        ctx.warning({ file, message: 'Skipped: a link to a directory (links to directories are not followed).' })
      } else if (resolved.error !== undefined) {
        ctx.problem({ file, message: `Cannot read this prompt file: ${resolved.detail ?? resolved.error}` })
      } else if (!options.reservedReal.has(resolved.real)) {
        files.push(resolved.real === path.join(ws.real, file) ? { file, kind, base } : { file, kind, base, real: resolved.real })
      }
    }

    if (matched === 0 && !options.isDefault)
      ctx.problem({ message: `${what(written)} matched no files: check the pattern and the folder names (paths are relative to the repository root), or remove it.` })
  }

  if (options.isDefault && !options.otherSources && files.length === 0) {
    ctx.problem({ message: 'No prompts found: put prompt files under prompts/ or set the prompts, data or requests input.' })
  }
  return files
}

/**
 * `resolveFile`'s verdict (inside the workspace once links are followed, a file), with one lstat for
 * the usual case: a plain file, not a link, whose folder's real path is known (resolved once per
 * folder). Anything else (a link, a file gone meanwhile, an unreadable folder) takes the full check.
 */
export class Resolver {
  private readonly dirs = new Map<string, Promise<string | undefined>>()

  constructor(
    private readonly ws: Workspace,
    private readonly fs: ReadFs
  ) {}

  async resolve(rel: string): Promise<Resolved> {
    const abs = path.resolve(this.ws.root, rel)
    let plain = false
    try {
      plain = (await this.fs.lstat(abs)).isFile()
    } catch {
      // Gone or unreadable: the full check says which.
    }
    const dir = plain ? await this.realDir(path.dirname(abs)) : undefined
    if (dir === undefined) return resolveFile(this.ws, rel)
    const real = path.join(dir, path.basename(abs))
    return isInside(this.ws.real, real) ? { abs, real } : { error: 'outside' }
  }

  private realDir(abs: string): Promise<string | undefined> {
    let found = this.dirs.get(abs)
    if (!found) {
      found = this.fs.realpath(abs).catch(() => undefined)
      this.dirs.set(abs, found)
    }
    return found
  }
}

/** The directory part of a pattern before its first segment with a wildcard (`*`, `?`, `[`, `{`). */
export function globBase(pattern: string): string {
  const segments = pattern.split('/')
  const wild = segments.findIndex((s) => WILDCARD.test(s))
  return (wild === -1 ? segments.slice(0, -1) : segments.slice(0, wild)).join('/')
}

/** `file` relative to `base`, for output paths and keys. */
export function relativeToBase(file: string, base: string): string {
  return base ? path.posix.relative(base, file) : file
}

/** Output path and key of a markdown prompt file: `<outputDir>/<P rel D>` and `<P rel D>` without extension. */
export function markdownTarget(p: PromptFile, outputDir: string, json = false): { path: string; key: string } {
  const rel = relativeToBase(p.file, p.base)
  // A reply that fits a schema is JSON, and is named so.
  const out = json ? rel.replace(/(\.[^./]*)?$/, '.json') : rel
  return { path: path.posix.join(outputDir, out), key: withoutPromptExtension(rel) }
}

/**
 * `{a,b}` alternatives, which @actions/glob does not support itself: `p/{a,b}/*.md` →
 * `p/a/*.md`, `p/b/*.md`. Braces without a comma stay literal.
 */
export function expandBraces(pattern: string): string[] {
  let depth = 0
  let start = -1
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '{') {
      if (depth++ === 0) start = i
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const parts = splitTopLevel(pattern.slice(start + 1, i))
      if (parts.length > 1) {
        const before = pattern.slice(0, start)
        const after = pattern.slice(i + 1)
        return [...new Set(parts.flatMap((part) => expandBraces(before + part + after)))]
      }
    }
  }
  return [pattern]
}

function splitTopLevel(inner: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]
    if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === ',' && depth === 0) {
      parts.push(inner.slice(from, i))
      from = i + 1
    }
  }
  parts.push(inner.slice(from))
  return parts
}

/** Workspace-relative paths of the files one pattern matches, sorted. */
async function expand(rel: string, exclude: readonly string[], ws: Workspace): Promise<string[]> {
  const root = globEscape(ws.root)
  const absolute = (p: string): string => (p ? `${root}/${p}` : root)
  const found = new Set<string>()
  const excluded = exclude.flatMap(expandBraces).map((p) => `!${absolute(p)}`)
  for (const one of expandBraces(rel)) {
    const globber = await glob.create([absolute(one), ...excluded].join('\n'), {
      followSymbolicLinks: false,
      matchDirectories: false,
      implicitDescendants: false
    })
    for await (const match of globber.globGenerator()) {
      found.add(toPosix(path.relative(ws.root, match)))
    }
  }
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Makes a literal path safe inside a pattern (the same escaping @actions/glob uses for the cwd). */
function globEscape(s: string): string {
  return (path.sep === '\\' ? s : s.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}

async function isDirectory(abs: string): Promise<boolean> {
  try {
    return (await stat(abs)).isDirectory()
  } catch {
    return false
  }
}
