// TEMPORARY stand-in with the agreed signature; replaced by the real module from branch h/retry.
export async function withRetry<T>(
  _what: string,
  call: (o: { signal: AbortSignal; timeout: number }) => Promise<T>,
  _opts: { deadline?: number; log?: (s: string) => void; sleep?: (ms: number) => Promise<void> } = {}
): Promise<T> {
  return call({ signal: new AbortController().signal, timeout: 120_000 })
}
