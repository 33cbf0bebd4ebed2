import { existsSync } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import type { Problem } from '../sources/types.js'
import { keyPath, lockKey, type Lock } from '../state/lock.js'
import { split, type DataOutput, type Limits, type Plan, type PlannedRequest } from './plan.js'
import { SpoolWriter } from './spool.js'
import { plainRequest, RequestTable } from './table.js'

/** Why a request is sent or not; the job summary and the dry run show the split. */
export interface Split {
  /** No lock entry: never generated, or it failed or expired before. */
  new: number
  /** The lock holds another fingerprint for its output: the prompt or its params changed. */
  changed: number
  /** The lock's fingerprint matches, but the output file was deleted. */
  missing: number
  /** Sent because of `regenerate`. */
  regenerated: number
  /** Output exists and its fingerprint matches: not sent. */
  unchanged: number
  /** An identical request is in a submission not collected yet: not sent. */
  pending: number
  /** Would be sent, but over `max-requests`: left for a later run. */
  deferred: number
}

export interface Selection {
  /** The plan of what this run sends (the full plan when everything is). */
  plan: Plan
  split: Split
  /** Lock keys whose output no request of this checkout produces any more (a deleted prompt or row). */
  stale: string[]
}

export interface SelectOptions {
  workspace: string
  /** Undefined when the lock is off: everything is sent. */
  lock?: Lock
  /** Fingerprints of requests in submissions not collected and not expired. */
  pending?: ReadonlySet<string>
  regenerate?: boolean
  maxRequests?: number
  limits: Limits
  /** Where the reduced plan's params go. */
  spoolPath: string
  problem: (p: Problem) => void
}

/**
 * Which requests of the plan this run sends: everything but what is unchanged (its output exists and
 * the lock holds its fingerprint) or pending (an identical request awaits collection), capped at
 * `max-requests`. The reduced plan (requests, chunks, spool) is built from the full one without
 * reading a source file again.
 */
export async function selectRequests(full: Plan, o: SelectOptions): Promise<Selection> {
  const split: Split = { new: 0, changed: 0, missing: 0, regenerated: 0, unchanged: 0, pending: 0, deferred: 0 }
  const exists = existsCache(o.workspace)
  const send: number[] = []
  const kept = new Map<string, Array<[number, string]>>()
  full.requests.forEach((r, i) => {
    const verdict = classify(r, o, exists)
    if (verdict === 'unchanged' && r.output?.kind === 'data-row') {
      const rows = kept.get(r.output.path) ?? []
      rows.push([r.output.index, r.fingerprint!])
      kept.set(r.output.path, rows)
    }
    if (verdict === 'unchanged' || verdict === 'pending') {
      split[verdict]++
      return
    }
    if (o.maxRequests !== undefined && send.length >= o.maxRequests) {
      split.deferred++
      return
    }
    split[verdict]++
    send.push(i)
  })
  const stale = o.lock ? staleKeys(full, o.lock) : []
  if (send.length === full.requests.length) return { plan: full, split, stale }
  return { plan: await reducedPlan(full, send, kept, o), split, stale }
}

type Verdict = 'new' | 'changed' | 'missing' | 'regenerated' | 'unchanged' | 'pending'

function classify(r: PlannedRequest, o: SelectOptions, exists: (p: string) => boolean): Verdict {
  const key = lockKey(r)
  if (!o.lock || !key) return 'new'
  if (o.regenerate) return 'regenerated'
  const entry = o.lock.get(key)
  if (entry && entry.fingerprint === r.fingerprint) {
    // A data row also needs its place in the generated file, to take its previous output from there.
    const usable = r.output!.kind === 'file' || entry.row !== undefined
    if (usable && exists(r.output!.path)) return 'unchanged'
  }
  if (o.pending?.has(r.fingerprint!)) return 'pending'
  if (!entry) return 'new'
  return entry.fingerprint === r.fingerprint ? 'missing' : 'changed'
}

function existsCache(workspace: string): (relative: string) => boolean {
  const seen = new Map<string, boolean>()
  return (relative) => {
    let found = seen.get(relative)
    if (found === undefined) seen.set(relative, (found = existsSync(path.join(workspace, relative))))
    return found
  }
}

/** Lock keys that no request of the full plan produces: their source is gone. */
export function staleKeys(full: Plan, lock: Lock): string[] {
  // What is left of the lock's keys once every request has claimed its own: memory for the lock's
  // size, not the plan's (a first run over a million rows has an empty lock).
  const left = new Set(lock.keys())
  if (!left.size) return []
  const dataPaths = new Set(full.dataOutputs.map((d) => d.path))
  for (const r of full.requests) {
    const key = lockKey(r)
    if (key) left.delete(key)
  }
  return [...left].filter((key) => !(key === keyPath(key) && dataPaths.has(key))).sort()
}

export async function reducedPlan(
  full: Plan,
  send: number[],
  kept: Map<string, Array<[number, string]>>,
  o: Pick<SelectOptions, 'spoolPath' | 'limits' | 'problem'>
): Promise<Plan> {
  // Columns, like the full plan's (plan/table.ts): a reduced plan can be nearly as big.
  const table = new RequestTable()
  const spool = new SpoolWriter(o.spoolPath)
  const source = await open(full.spoolPath, 'r')
  const sentData = new Set<string>()
  try {
    for (const i of send) {
      const r = full.requests[i]!
      const buffer = Buffer.alloc(r.bytes)
      await source.read(buffer, 0, r.bytes, r.offset)
      table.push({ ...plainRequest(r), ...(await spool.appendRaw(buffer)) })
      if (r.output?.kind === 'data-row') sentData.add(r.output.path)
    }
  } finally {
    await source.close()
    await spool.close()
  }
  const requests = table.view()
  // A data file is rebuilt only when some of its rows are sent; its unchanged rows keep their output.
  const dataOutputs: DataOutput[] = full.dataOutputs.filter((d) => sentData.has(d.path)).map((d) => ({ ...d, ...(kept.has(d.path) ? { kept: kept.get(d.path) } : {}) }))
  return { ...full, requests, chunks: split(requests, o.limits, o.problem), spoolPath: o.spoolPath, dataOutputs }
}
