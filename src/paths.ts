import path from 'node:path'
import { mkdir, mkdtemp, realpath } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/**
 * Resolves `p` (relative to the workspace, or absolute) to a workspace-relative POSIX path, or
 * undefined when it leaves the workspace. This is the lexical check; `realInside` also follows links.
 */
export function toWorkspacePath(workspace: string, p: string): string | undefined {
  const absolute = path.resolve(workspace, p)
  const relative = path.relative(path.resolve(workspace), absolute)
  if (relative === '') return '.'
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined
  return relative.split(path.sep).join('/')
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
      const real = await realpath(current)
      return real === root || real.startsWith(root + path.sep)
    } catch {
      const parent = path.dirname(current)
      if (parent === current) return false
      current = parent
    }
  }
}

/** A new private temporary directory under the runner's temp folder (made if missing), or the system's. */
export async function makeTempDir(prefix: string): Promise<string> {
  const base = process.env.RUNNER_TEMP || tmpdir()
  await mkdir(base, { recursive: true })
  return mkdtemp(path.join(base, prefix))
}

/** The sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
