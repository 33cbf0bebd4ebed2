import path from 'node:path'
import { existsSync } from 'node:fs'
import type { Plan } from '../plan/plan.js'
import type { ResultCollector } from '../results/collect.js'
import { previousFields, type PreviousRows } from '../results/data-output.js'
import { readDataRows } from '../sources/data-rows.js'
import { lockKey, readLock, writeLock, type Lock } from './lock.js'
import { esc } from '../report/log.js'
import { warn } from '../report/annotations.js'

/**
 * For every data file about to be rebuilt, the outputs of its unchanged rows (`kept`), taken from the
 * previous generated file through the lock's row index. Read before the file is rewritten; only the
 * kept rows' texts are held.
 */
export async function loadPreviousRows(plan: Plan, workspace: string, lock: Lock): Promise<PreviousRows> {
  const previous: PreviousRows = new Map()
  for (const d of plan.dataOutputs) {
    if (!d.kept?.length) continue
    const wanted = new Map<number, number[]>()
    for (const [row, fp] of d.kept) {
      const at = lock.get(`${d.path}#${fp}`)?.row
      if (at === undefined) continue
      wanted.set(at, [...(wanted.get(at) ?? []), row])
    }
    const texts = new Map<number, Record<string, unknown>>()
    previous.set(d.path, texts)
    const abs = path.join(workspace, d.path)
    if (!wanted.size || !existsSync(abs)) continue
    try {
      const ctx = { workspace, outputDir: '', defaults: { model: '', maxTokens: 1 }, problem: () => {}, warning: () => {} }
      for await (const item of readDataRows(d.format, abs, d.path, ctx)) {
        if (item.kind !== 'row') continue
        const rows = wanted.get(item.row - 1)
        const fields = rows && previousFields(item.values, d)
        if (fields) for (const row of rows) texts.set(row, fields)
      }
    } catch (error) {
      // Those rows are written empty and, having no lock entry then, sent by the next run.
      warn(`Could not read the previous ${esc(d.path)} for its unchanged rows (${esc((error as Error).message)}); they are left empty and sent again next run.`)
      texts.clear()
    }
  }
  return previous
}

/**
 * Records in the lock file every output this collection wrote: a file's entry, or a rebuilt data
 * file's rows (those generated now and those kept from before). Returns the lock's path when it was
 * written, for `output-files`, the results artifact and the pull request.
 */
export async function recordResults(
  plan: Plan,
  collector: ResultCollector,
  workspace: string,
  lockFile: string,
  previous: PreviousRows,
  remove: readonly string[] = []
): Promise<string | undefined> {
  const before = await readLock(workspace, lockFile)
  const update: Lock = new Map()
  const at = new Date().toISOString()
  const rebuilt = new Set(plan.dataOutputs.filter((d) => collector.written.has(d.path)).map((d) => d.path))
  plan.chunks.forEach((chunk, c) => {
    const batch = collector.batchOfChunk.get(c)
    if (!batch) return
    for (let i = chunk.start; i < chunk.end; i++) {
      const r = plan.requests[i]!
      const key = lockKey(r)
      if (!key || collector.outcomeOf(i) !== 'succeeded' || collector.unwritten.has(i)) continue
      if (r.output!.kind === 'file' && collector.written.has(r.output!.path)) update.set(key, { fingerprint: r.fingerprint!, batch, at })
      else if (r.output!.kind === 'data-row' && rebuilt.has(r.output!.path)) update.set(key, { fingerprint: r.fingerprint!, batch, at, row: r.output!.index })
    }
  })
  for (const d of plan.dataOutputs) {
    if (!rebuilt.has(d.path)) continue
    const texts = previous.get(d.path)
    for (const [row, fp] of d.kept ?? []) {
      const key = `${d.path}#${fp}`
      const old = before.get(key)
      if (old && texts?.has(row) && !update.has(key)) update.set(key, { ...old, row })
    }
  }
  if (!update.size && !rebuilt.size && !remove.length) return undefined
  await writeLock(workspace, lockFile, update, remove, rebuilt)
  return lockFile
}
