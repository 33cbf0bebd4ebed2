import { createHash, randomInt } from 'node:crypto'

export { CUSTOM_ID_PATTERN } from '../sources/params.js'
const MAX = 64
const HASH = 8

/**
 * A submission's tag: a short word that starts every custom_id the submission sends. Batches carry
 * no label of their own (batch-api.md §2), so the tag is how a batch is proved to be this
 * submission's: its result lines carry exactly the ids the submission sent, and another
 * submission's never do. Its first half is random (two runs of the same prompts differ); its second
 * half is a digest of every request's content (`withDigest`), so prompts read again from a checkout
 * prove that they are the ones a batch was sent with, not only files of the same names.
 */
export const TAG_LENGTH = 8
const RANDOM_LENGTH = 4
const TAG_ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789'
const TAG_PATTERN = new RegExp(`^([${TAG_ALPHABET}]{${TAG_LENGTH}})_`)
// The readable part: what is left of the API's 64 characters after the tag and its separator.
const READABLE = MAX - TAG_LENGTH - 1

export function newTag(): string {
  let tag = ''
  for (let i = 0; i < TAG_LENGTH; i++) tag += TAG_ALPHABET[randomInt(TAG_ALPHABET.length)]
  return tag
}

/** The tag with its second half replaced by the submission's content digest (hex, from the spool). */
export function withDigest(tag: string, digestHex: string): string {
  const bytes = Buffer.from(digestHex, 'hex')
  let half = ''
  for (let i = 0; i < TAG_LENGTH - RANDOM_LENGTH; i++) half += TAG_ALPHABET[bytes[i % bytes.length]! % TAG_ALPHABET.length]
  return tag.slice(0, RANDOM_LENGTH) + half
}

/** The tag a custom_id starts with, or undefined when it carries none. */
export function tagOf(customId: string): string | undefined {
  return TAG_PATTERN.exec(customId)?.[1]
}

export function isTag(value: string): boolean {
  return TAG_PATTERN.test(`${value}_`) && value.length === TAG_LENGTH
}

/**
 * Turns readable keys (`products/widget`, `tickets-17`) into custom_ids that are valid, unique,
 * start with the submission's tag, and are the same on every run for the same sources and tag. A key
 * that sanitises cleanly is used as is; one that is too long, or that collides with another after
 * sanitising, keeps a readable prefix and gains a short hash of the full key, so the result does not
 * depend on the order the files were read in.
 *
 * `fixed` holds custom_ids the user chose (JSONL requests): they keep their text after the tag
 * (shortened with a hash only when the tag would push them over 64 characters), and derived ids
 * steer clear of them.
 */
export function assignCustomIds(keys: ReadonlyArray<string | { fixed: string }>, tag: string): string[] {
  return [...customIds(keys.length, (i) => keys[i]!, tag)]
}

/**
 * `assignCustomIds` for `count` keys read through `keyAt`, without holding every key, base and id
 * as strings at once (a million-row data file): duplicates are found by sorting 32-bit hashes, and
 * only keys whose hashes meet are compared as text. Throws before yielding when two ids are equal.
 */
export function customIds(count: number, keyAt: (i: number) => string | { fixed: string }, tag: string): Iterable<string> {
  if (!isTag(tag)) throw new Error(`not a submission tag: ${JSON.stringify(tag)}`)
  const base = (i: number): string => {
    const k = keyAt(i)
    return typeof k === 'string' ? sanitize(k) : k.fixed
  }
  const shared = repeated(count, base)
  const id = (i: number): string => {
    const key = keyAt(i)
    const b = typeof key === 'string' ? sanitize(key) : key.fixed
    const fixed = typeof key !== 'string'
    if (b.length <= READABLE && (fixed || !shared[i])) return `${tag}_${b}`
    return `${tag}_${withHash(b, fixed ? `fixed:${key.fixed}` : key)}`
  }
  const twice = repeated(count, id)
  // The id whose second use comes first, as a walk through them in order would meet it.
  const first = new Set<string>()
  for (let i = 0; i < count; i++) {
    if (!twice[i]) continue
    const value = id(i)
    if (first.has(value)) throw new Error(`custom_id "${value}" was produced twice; rename one of its sources.`)
    first.add(value)
  }
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) yield id(i)
    }
  }
}

/** Which of `count` strings occur more than once (1) or once (0). */
function repeated(count: number, at: (i: number) => string): Uint8Array {
  const marks = new Uint8Array(count)
  // High 32 bits: a hash of the string; low 32: its index. Sorted, equal hashes sit together.
  const order = new BigUint64Array(count)
  for (let i = 0; i < count; i++) order[i] = (BigInt(fnv1a(at(i))) << 32n) | BigInt(i)
  order.sort()
  for (let start = 0; start < count;) {
    const hash = order[start]! >> 32n
    let end = start + 1
    while (end < count && order[end]! >> 32n === hash) end++
    if (end - start > 1) {
      const byText = new Map<string, number[]>()
      for (let k = start; k < end; k++) {
        const i = Number(order[k]! & 0xffffffffn)
        const text = at(i)
        const same = byText.get(text)
        if (same) same.push(i)
        else byText.set(text, [i])
      }
      for (const same of byText.values()) if (same.length > 1) for (const i of same) marks[i] = 1
    }
    start = end
  }
  return marks
}

/** FNV-1a over UTF-16 code units: cheap, and only ever a hint (equal hashes are compared as text). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function sanitize(key: string): string {
  const ascii = key.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
  const id = ascii
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
  return id || 'request'
}

function withHash(base: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, HASH)
  const prefix = base.slice(0, READABLE - HASH - 1).replace(/-+$/, '')
  return `${prefix}-${hash}`
}
