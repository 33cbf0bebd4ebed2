import { createHash } from 'node:crypto'

export { CUSTOM_ID_PATTERN } from '../sources/params.js'
const MAX = 64
const HASH = 8

/**
 * Turns readable keys (`products/widget`, `tickets-17`) into custom_ids that are valid, unique and
 * the same on every run for the same sources. A key that sanitises cleanly is used as is; one that is
 * too long, or that collides with another after sanitising, keeps a readable prefix and gains a short
 * hash of the full key, so the result does not depend on the order the files were read in.
 *
 * `fixed` holds custom_ids the user chose (JSONL requests): they are never changed, and derived ids
 * steer clear of them.
 */
export function assignCustomIds(keys: ReadonlyArray<string | { fixed: string }>): string[] {
  const bases = keys.map((k) => (typeof k === 'string' ? sanitize(k) : k.fixed))
  const uses = new Map<string, number>()
  for (const base of bases) uses.set(base, (uses.get(base) ?? 0) + 1)

  const ids = keys.map((key, i) => {
    if (typeof key !== 'string') return key.fixed
    const base = bases[i]!
    if (base.length <= MAX && uses.get(base) === 1) return base
    return withHash(base, key)
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
  const prefix = base.slice(0, MAX - HASH - 1).replace(/-+$/, '')
  return `${prefix}-${hash}`
}
