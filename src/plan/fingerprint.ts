import { createHash } from 'node:crypto'

/**
 * What produced an output, as one short string: the sha256 of the request's params (every field,
 * keys sorted, so that reordering YAML keys changes nothing) and the output path. The custom_id is
 * left out on purpose: its submission tag is new every run, and would make every request look new.
 */
export function fingerprint(params: unknown, outputPath: string): string {
  // 128 bits of sha256: ample against accidental collisions, and half the size in plan and manifest.
  // Hex of the first 16 bytes, not a slice of the full hex: a slice would keep the 64 characters alive.
  return createHash('sha256')
    .update(canonicalJson({ output: outputPath, params }))
    .digest()
    .toString('hex', 0, 16)
}

/** JSON with every object's keys sorted, so that equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
  return `{${entries.join(',')}}`
}
