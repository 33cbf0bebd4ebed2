import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { writeOutputFile } from '../results/atomic.js'
import type { PlannedRequest } from '../plan/plan.js'

/**
 * The lock file: for every output the action wrote, the fingerprint of exactly what produced it
 * (plan/fingerprint.ts), the batch and the time. A later submit skips a request whose output exists
 * and whose fingerprint is recorded: "pay once". Kept in the repository, beside what it describes.
 *
 * Keys are output paths; a data file's rows are keyed `<output path>#<row fingerprint>` (rows are
 * matched by content, not position), with `row`, the row's index in the generated file, so that an
 * unchanged row can take its previous output from there.
 */
export interface LockEntry {
  fingerprint: string
  batch: string
  at: string
  row?: number
}

export type Lock = Map<string, LockEntry>

export const DEFAULT_LOCK_FILE = 'claude-batch.lock.json'

export function lockKey(request: Pick<PlannedRequest, 'output' | 'fingerprint'>): string | undefined {
  const output = request.output
  if (!output || !request.fingerprint) return undefined
  return output.kind === 'data-row' ? `${output.path}#${request.fingerprint}` : output.path
}

/** The output path a key is about (a data row's key names its data file's output). */
export function keyPath(key: string): string {
  const hash = key.lastIndexOf('#')
  return hash >= 0 && /^[0-9a-f]{32}$/.test(key.slice(hash + 1)) ? key.slice(0, hash) : key
}

export class LockFileError extends Error {}

/** Reads the lock; a missing one is empty. One that is not a lock (a merge conflict left in it, say) throws. */
export async function readLock(workspace: string, file: string): Promise<Lock> {
  let text: string
  try {
    text = await readFile(path.join(workspace, file), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw new LockFileError(`Cannot read the lock file ${JSON.stringify(file)}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new LockFileError(
      `The lock file ${JSON.stringify(file)} is not JSON (${(error as Error).message}); a merge conflict left in it? Resolve it, or delete the file to send everything again.`
    )
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LockFileError(`The lock file ${JSON.stringify(file)} is not a JSON object of entries.`)
  const lock: Lock = new Map()
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const e = value as Partial<LockEntry> | null
    // An entry that is not one is dropped: its output is merely sent again.
    if (!e || typeof e.fingerprint !== 'string' || typeof e.batch !== 'string' || typeof e.at !== 'string') continue
    lock.set(key, { fingerprint: e.fingerprint, batch: e.batch, at: e.at, ...(Number.isInteger(e.row) ? { row: e.row } : {}) })
  }
  return lock
}

/**
 * The lock as text: one entry a line, keys sorted, each entry's fields in a fixed order, so that a
 * pull request's diff shows exactly the outputs that changed and two pull requests touching
 * different outputs rarely conflict.
 */
export function formatLock(lock: Lock): string {
  return [...lockLines(lock)].join('')
}

/** The lock's text piece by piece: 100,000 entries are never one string. */
function* lockLines(lock: Lock): Generator<string> {
  const keys = [...lock.keys()].sort()
  if (!keys.length) {
    yield '{}\n'
    return
  }
  yield '{\n'
  for (const [i, key] of keys.entries()) {
    const e = lock.get(key)!
    const entry = { fingerprint: e.fingerprint, batch: e.batch, at: e.at, ...(e.row !== undefined ? { row: e.row } : {}) }
    yield `  ${JSON.stringify(key)}: ${JSON.stringify(entry)}${i < keys.length - 1 ? ',' : ''}\n`
  }
  yield '}\n'
}

/**
 * Writes the lock through the same guard as every output (path rules, atomic rename). The lock read
 * just before is merged with `update` (set) and `remove` (deleted), so that entries written by
 * another collect since this run started are kept.
 */
export async function writeLock(workspace: string, file: string, update: Lock, remove: Iterable<string> = [], dropPaths: ReadonlySet<string> = new Set()): Promise<Lock> {
  const lock = await readLock(workspace, file)
  // A data file rebuilt now lists its rows afresh: its old row entries go.
  if (dropPaths.size) for (const key of [...lock.keys()]) if (key !== keyPath(key) && dropPaths.has(keyPath(key))) lock.delete(key)
  for (const key of remove) lock.delete(key)
  for (const [key, entry] of update) lock.set(key, entry)
  await writeOutputFile(workspace, file, async (temporary) => {
    const out = createWriteStream(temporary)
    try {
      for (const piece of lockLines(lock)) if (!out.write(piece)) await once(out, 'drain')
      out.end()
      await once(out, 'finish')
    } catch (error) {
      out.destroy()
      throw error
    }
  })
  return lock
}
