/**
 * Prompt caching (input `cache`): which shared prefix of a batch gets a `cache_control`.
 *
 * A prefix is worth caching when two or more requests of the same batch share it and it is long
 * enough for the model (cost/prices.ts, minCacheTokens). Two prefixes are considered, in the API's
 * prefix order (tools, system, messages):
 * - the system prompt, sent as `[{type: "text", text, cache_control: {type: "ephemeral", ttl: "1h"}}]`;
 * - a data template's fixed leading text (when its variables come after it): that user message becomes
 *   two text blocks, the fixed lead with cache_control and the rest without.
 * The one-hour TTL because a batch can take longer than the default five minutes.
 *
 * What is planned (the spool, the fingerprint, the submission's digest) is the request as written:
 * the blocks are put in only when a batch's body is built (`cachedBody`). So switching `cache`, or a
 * prefix becoming shared, never changes a fingerprint, and never re-sends an unchanged prompt.
 *
 * Counting "shared" streams: each request keeps a 48-bit hash of each prefix (never its text), and a
 * batch's hashes are counted in one Map when its body is built or its cost estimated.
 */
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { minCacheTokens } from '../cost/prices.js'
import type { MessageParams } from '../sources/types.js'
import { batchBody, SpoolWriter } from './spool.js'
import type { Chunk, Plan } from './plan.js'
import { columnsOf } from './table.js'

export type CacheMode = 'auto' | 'off'
export const CACHE_MODES: readonly CacheMode[] = ['auto', 'off']

/** What every marked block carries. */
export const CACHE_CONTROL = { type: 'ephemeral', ttl: '1h' } as const

/** A cacheable prefix of one request: a hash of everything it covers (with the model), and its size. */
export interface Breakpoint {
  key: number
  /** UTF-8 bytes of the prefix's text: a token is at least one byte, so an upper bound on its tokens. */
  bytes: number
}

/** Where a data template's fixed lead ends: in message `message`, after `chars` UTF-16 code units. */
export interface CacheLead {
  message: number
  chars: number
}

/** A request's cacheable prefixes, shortest first. */
export interface CacheKeys {
  system?: Breakpoint
  lead?: Breakpoint & CacheLead
}

/** The plan's caching state: the mode, and prefix tokens counted with count_tokens (by key) before spending. */
export interface Caching {
  mode: CacheMode
  tokens: Map<number, number>
}

/** Bits of a request's mark in a batch. */
export const MARK_SYSTEM = 1
export const MARK_LEAD = 2

/**
 * Most bytes the blocks add to one request's JSON (both prefixes marked): the wrappers and the
 * cache_control objects. Splitting counts it, so a marked batch still fits the API's 256 MB.
 */
export const CACHE_MARK_BYTES = 256

// Fields that do not change what a prefix caches; everything else (model, tools, output_config,
// thinking, tool_choice…) is in every key, so that requests differing in it never count as sharing.
const OUTSIDE_PREFIX = new Set(['messages', 'system', 'max_tokens', 'stop_sequences', 'metadata'])

/**
 * The cacheable prefixes of a request as planned, or undefined when there is none worth keeping a key
 * for: the user set cache_control themselves (their breakpoints are left alone), the system is not a
 * plain string, or the prefix is too short for the model whatever its tokens.
 */
export function cacheKeys(params: MessageParams, lead?: CacheLead): CacheKeys | undefined {
  if (params.cache_control !== undefined || mentionsCacheControl(params.tools)) return undefined
  if (params.system !== undefined && typeof params.system !== 'string') return undefined
  const min = minCacheTokens(params.model).low
  const rest = commonPart(params)
  const system = params.system ?? ''
  const keys: CacheKeys = {}
  const systemBytes = rest.bytes + byteLength(system, 'system')
  if (system && systemBytes >= min) keys.system = { key: hashOf('system', rest.json, system), bytes: systemBytes }

  const split = lead && splitLead(params, lead)
  if (split) {
    const before = lead!.message ? JSON.stringify(params.messages.slice(0, lead!.message)) : ''
    const bytes = systemBytes + byteLength(before, 'before') + byteLength(split.lead, 'lead')
    if (bytes >= min) keys.lead = { key: hashOf('lead', rest.json, system, before, split.lead), bytes, ...lead! }
  }
  if (!keys.system && !keys.lead) return undefined
  // Rows sharing their prefixes share one (never changed) object: 100,000 of them cost one, not 100,000.
  if (
    lastKeys &&
    sameBreakpoint(lastKeys.system, keys.system) &&
    sameBreakpoint(lastKeys.lead, keys.lead) &&
    lastKeys.lead?.message === keys.lead?.message &&
    lastKeys.lead?.chars === keys.lead?.chars
  )
    return lastKeys
  return (lastKeys = keys)
}

let lastKeys: CacheKeys | undefined

function sameBreakpoint(a: Breakpoint | undefined, b: Breakpoint | undefined): boolean {
  return a?.key === b?.key && a?.bytes === b?.bytes
}

/**
 * Which requests of a batch get which cache_control (MARK_* bits, one byte per request): a prefix
 * shared by two or more of them, long enough for the model. Its length is the count made before
 * spending when there is one, else its byte size (an upper bound on its tokens).
 */
export function chunkMarks(plan: Pick<Plan, 'requests' | 'caching'>, chunk: Pick<Chunk, 'start' | 'end'>): Uint8Array {
  const marks = new Uint8Array(chunk.end - chunk.start)
  if (plan.caching?.mode !== 'auto') return marks
  const counts = new Map<number, number>()
  const add = (b: Breakpoint | undefined) => b && counts.set(b.key, (counts.get(b.key) ?? 0) + 1)
  // Straight from the plan's columns: two passes over up to 100,000 requests.
  const col = columnsOf(plan.requests)
  for (let i = chunk.start; i < chunk.end; i++) {
    const keys = col.cache(i)
    add(keys?.system)
    add(keys?.lead)
  }
  const tokens = plan.caching.tokens
  const worth = (i: number, b: Breakpoint | undefined): boolean => {
    if (!b || (counts.get(b.key) ?? 0) < 2) return false
    return (tokens.get(b.key) ?? b.bytes) >= minCacheTokens(col.model(i)).low
  }
  for (let i = chunk.start; i < chunk.end; i++) {
    const keys = col.cache(i)
    if (keys) marks[i - chunk.start] = (worth(i, keys.system) ? MARK_SYSTEM : 0) | (worth(i, keys.lead) ? MARK_LEAD : 0)
  }
  return marks
}

/** The request with its marked prefixes as blocks carrying cache_control. Pure: `params` is not changed. */
export function markParams(params: MessageParams, keys: CacheKeys | undefined, mark: number): MessageParams {
  const out: MessageParams = { ...params }
  if (mark & MARK_SYSTEM && typeof params.system === 'string') {
    out.system = [{ type: 'text', text: params.system, cache_control: CACHE_CONTROL }]
  }
  const split = mark & MARK_LEAD && keys?.lead ? splitLead(params, keys.lead) : undefined
  if (split) {
    const messages = params.messages.slice()
    const message = messages[keys!.lead!.message]!
    messages[keys!.lead!.message] = {
      ...message,
      content: [
        { type: 'text', text: split.lead, cache_control: CACHE_CONTROL },
        { type: 'text', text: split.rest }
      ]
    }
    out.messages = messages
  }
  return out
}

/**
 * The create body of one batch: exactly the spool's bytes when nothing in it is marked (always so
 * with `cache: off`), else the marked requests rewritten (marked copy of the chunk, removed after).
 */
export async function* cachedBody(plan: Plan, chunk: Chunk): AsyncGenerator<Buffer> {
  const items = plan.requests.slice(chunk.start, chunk.end)
  const marks = chunkMarks(plan, chunk)
  if (!marks.some((m) => m !== 0)) {
    yield* batchBody(plan.spoolPath, items)
    return
  }
  const path = `${plan.spoolPath}.cache-${chunk.start}.jsonl`
  const spool = new SpoolWriter(path)
  const marked: Array<{ customId: string; offset: number; bytes: number }> = []
  try {
    try {
      let i = 0
      for await (const json of spoolItems(plan.spoolPath, items)) {
        const r = items[i]!
        const mark = marks[i++]!
        const out = mark ? Buffer.from(JSON.stringify(markParams(JSON.parse(json.toString('utf8')) as MessageParams, r.cache, mark))) : json
        marked.push({ customId: r.customId, ...(await spool.appendRaw(out)) })
      }
    } finally {
      await spool.close()
    }
    yield* batchBody(path, marked)
  } finally {
    await rm(path, { force: true })
  }
}

/** Each item's params JSON, read from the spool in one pass (items consecutive, as chunks are). */
async function* spoolItems(path: string, items: ReadonlyArray<{ offset: number; bytes: number }>): AsyncGenerator<Buffer> {
  if (!items.length) return
  const first = items[0]!
  const last = items[items.length - 1]!
  const stream = createReadStream(path, { start: first.offset, end: last.offset + last.bytes, highWaterMark: 1 << 20 })
  let pending: Buffer = Buffer.alloc(0)
  let index = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    for (;;) {
      const item = items[index]
      if (!item || pending.length < item.bytes + 1) break
      yield Buffer.from(pending.subarray(0, item.bytes))
      pending = pending.subarray(item.bytes + 1)
      index++
    }
  }
  if (index !== items.length) throw new Error(`the request spool ended after ${index} of ${items.length} requests`)
}

const HAS_TEXT = /\S/

/** The lead and the rest of its user message, when both hold text: the API refuses an empty text block. */
function splitLead(params: MessageParams, lead: CacheLead): { lead: string; rest: string } | undefined {
  const message = params.messages[lead.message]
  if (!message || message.role !== 'user' || typeof message.content !== 'string') return undefined
  if (params.messages.slice(0, lead.message).some((m) => typeof m.content !== 'string')) return undefined
  const text = message.content
  if (lead.chars <= 0 || text.length <= lead.chars) return undefined
  const parts = { lead: text.slice(0, lead.chars), rest: text.slice(lead.chars) }
  return HAS_TEXT.test(parts.lead) && HAS_TEXT.test(parts.rest) ? parts : undefined
}

/**
 * The request's fields other than its texts, as JSON, and the bytes of its tools (part of every prefix).
 * In the order written, not canonical: rows of one source share it, and two orders only mean two keys.
 */
function commonPart(params: MessageParams): { json: string; bytes: number } {
  const common: Record<string, unknown> = {}
  for (const k in params) if (!OUTSIDE_PREFIX.has(k)) common[k] = params[k]
  return { json: JSON.stringify(common), bytes: params.tools === undefined ? 0 : byteLength(JSON.stringify(params.tools), 'tools') }
}

// Rows of one template repeat the same long texts: the last length of each kind is kept, and a text
// equal to it (a memcmp) is not measured again.
const lastLength = new Map<string, { text: string; bytes: number }>()

function byteLength(text: string, kind: string): number {
  const last = lastLength.get(kind)
  if (last?.text === text) return last.bytes
  const bytes = Buffer.byteLength(text)
  lastLength.set(kind, { text, bytes })
  return bytes
}

// Rows of one template share their prefix: the last hash of each kind is kept, so that 100,000 rows
// compare their system prompt to the previous one (a memcmp) instead of hashing it 100,000 times.
const lastHash = new Map<string, { parts: string[]; key: number }>()

function hashOf(tag: string, ...parts: string[]): number {
  const last = lastHash.get(tag)
  if (last && last.parts.length === parts.length && last.parts.every((p, i) => p === parts[i])) return last.key
  const hash = createHash('sha256').update(tag)
  for (const part of parts) hash.update(`\u0000${part.length}:`).update(part)
  // 48 bits: a safe integer, so the counts are a Map of numbers; a collision would only mark a prefix
  // that is not shared after all (one cache write instead of plain input).
  const key = hash.digest().readUIntBE(0, 6)
  lastHash.set(tag, { parts, key })
  return key
}

function mentionsCacheControl(value: unknown): boolean {
  return value !== undefined && JSON.stringify(value).includes('"cache_control"')
}

/** Requests of one batch that share their longest marked prefix: one cache write, reads for the rest. */
export interface CacheGroup {
  model: string
  /** The prefix: its key and byte size, and which one it is. */
  prefix: Breakpoint
  kind: 'system' | 'lead'
  /** Requests of the batch that carry it. */
  n: number
  /** Index of the first of them in the plan. */
  first: number
}

/** Every batch's cache groups, counted one batch at a time (the counts never outlive their batch). */
export function cacheGroups(plan: Pick<Plan, 'requests' | 'chunks' | 'caching'>): CacheGroup[] {
  const groups: CacheGroup[] = []
  if (plan.caching?.mode !== 'auto') return groups
  const col = columnsOf(plan.requests)
  for (const chunk of plan.chunks) {
    const marks = chunkMarks(plan, chunk)
    const inChunk = new Map<number, CacheGroup>()
    marks.forEach((mark, k) => {
      const i = chunk.start + k
      const kind = mark & MARK_LEAD ? 'lead' : mark & MARK_SYSTEM ? 'system' : undefined
      if (!kind) return
      const prefix = col.cache(i)?.[kind]
      if (!prefix) return
      const group = inChunk.get(prefix.key)
      if (group) group.n++
      else inChunk.set(prefix.key, { model: col.model(i), prefix: { key: prefix.key, bytes: prefix.bytes }, kind, n: 1, first: i })
    })
    groups.push(...inChunk.values())
  }
  return groups
}

/**
 * A count_tokens body holding exactly the prefix (and a one-character user turn for a system prefix):
 * its count, less that of a bare one-character request, is about the prefix's tokens.
 */
export function prefixRequest(params: MessageParams, keys: CacheKeys | undefined, kind: 'system' | 'lead'): Record<string, unknown> | undefined {
  const base = { model: params.model, ...(params.tools !== undefined ? { tools: params.tools } : {}), ...(params.system !== undefined ? { system: params.system } : {}) }
  if (kind === 'system') return { ...base, messages: [{ role: 'user', content: '.' }] }
  const split = keys?.lead && splitLead(params, keys.lead)
  if (!split) return undefined
  return { ...base, messages: [...params.messages.slice(0, keys!.lead!.message), { role: 'user', content: split.lead }] }
}

/** The bare request whose count prefixRequest's is compared with. */
export function baselineRequest(model: string): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: '.' }] }
}
