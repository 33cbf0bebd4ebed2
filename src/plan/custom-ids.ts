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
  if (!isTag(tag)) throw new Error(`not a submission tag: ${JSON.stringify(tag)}`)
  const bases = keys.map((k) => (typeof k === 'string' ? sanitize(k) : k.fixed))
  const uses = new Map<string, number>()
  for (const base of bases) uses.set(base, (uses.get(base) ?? 0) + 1)

  const ids = keys.map((key, i) => {
    const base = bases[i]!
    const fixed = typeof key !== 'string'
    if (base.length <= READABLE && (fixed || uses.get(base) === 1)) return `${tag}_${base}`
    return `${tag}_${withHash(base, fixed ? `fixed:${key.fixed}` : key)}`
  })

  const seen = new Set<string>()
  for (const id of ids) {
    if (seen.has(id)) throw new Error(`custom_id "${id}" was produced twice; rename one of its sources.`)
    seen.add(id)
  }
  return ids
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
