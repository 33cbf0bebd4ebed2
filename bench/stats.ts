/** The few statistics the report needs: medians over repetitions, and how numbers are shown. */

export function median(values: readonly number[]): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const seconds = (ms: number) => (Number.isNaN(ms) ? '—' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`)
export const mb = (bytes: number) => (Number.isNaN(bytes) || bytes <= 0 ? '—' : `${Math.round(bytes / 2 ** 20)} MB`)
export const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—')
export const count = (n: number) => n.toLocaleString('en-US')
