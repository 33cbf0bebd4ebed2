import { mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { checkWritable } from '../paths/output.js'
import { isInside } from '../paths/workspace.js'

/**
 * Writes a file so that readers see the old content or the new, never half of it: the text goes to a
 * temporary file beside the target, which is then renamed over it. `content` may be a function that
 * writes the temporary file itself, for outputs streamed rather than held whole.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array | ((temporary: string) => Promise<void>)): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeInPlace(file, content)
}

// Temporary names: random once per process, then counted, so that no two writes share one (and
// 100,000 writes do not each ask for random bytes). Not the target's name plus a suffix: a name of
// 255 bytes, which the path rules allow, would then be too long for the file system.
const TEMP_PREFIX = randomBytes(4).toString('hex')
let tempCount = 0

/** writeFileAtomic into a folder that exists. */
async function writeInPlace(file: string, content: string | Uint8Array | ((temporary: string) => Promise<void>)): Promise<void> {
  const temporary = path.join(path.dirname(file), `.claude-batch-${TEMP_PREFIX}-${(tempCount++).toString(36)}.tmp`)
  try {
    if (typeof content === 'function') await content(temporary)
    else await writeFile(temporary, content)
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/** A write refused by the path rules: nothing was written. */
export class OutputPathError extends Error {
  override readonly name = 'OutputPathError'
}

/**
 * The only way generated text reaches the workspace. Re-checks, at the moment of writing, what
 * can have changed since planning (a link, a directory at the path, a file where a folder should
 * be) and the path's syntax, then writes atomically. Rules that need the whole plan (no source
 * file, no two outputs on one path) are checked when planning and when reading a manifest.
 * Throws `OutputPathError` when a rule refuses the path, and the file system's error otherwise.
 */
export async function writeOutputFile(workspace: string, relative: string, content: string | Uint8Array | ((temporary: string) => Promise<void>)): Promise<void> {
  const checked = await checkWritable(workspace, relative)
  if (checked.error !== undefined) throw new OutputPathError(checked.error)
  const file = path.resolve(workspace, checked.path)
  const dir = path.dirname(file)
  // The folder is made only when missing (most outputs share a few folders, and a write is a
  // handful of file-system calls). A link swapped in after the check would show here: the folder
  // must still be inside.
  const [root, real] = await Promise.all([workspaceRoot(workspace), realpath(dir).catch(missing)])
  const inside = real ?? (await mkdir(dir, { recursive: true }), await realpath(dir))
  if (!isInside(root, inside)) {
    throw new OutputPathError(`Output path ${JSON.stringify(relative)} is outside the workspace once symbolic links are followed. Nothing was written to it.`)
  }
  await writeInPlace(file, content)
}

/** undefined for a path that does not exist (yet); any other failure is thrown. */
function missing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined
  throw error
}

/**
 * The workspace's real path, read once per process: 100,000 writes need not each ask again, and
 * the first answer is the stricter reference (a workspace replaced mid-run by a link elsewhere
 * would otherwise move "inside" with it).
 */
const roots = new Map<string, Promise<string>>()
function workspaceRoot(workspace: string): Promise<string> {
  let root = roots.get(workspace)
  if (!root) {
    root = realpath(workspace)
    // A failure is not kept: the next write asks again.
    root.catch(() => roots.delete(workspace))
    roots.set(workspace, root)
  }
  return root
}
