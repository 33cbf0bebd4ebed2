/**
 * Bounded concurrency for the floors: at most `limit` promises of `task` in flight, as a program that
 * wants the disk busy without opening every file at once would do (64, the floor).
 */
export class Pool {
  private readonly running = new Set<Promise<void>>()
  private failure: unknown

  constructor(private readonly limit = 64) {}

  /** Starts `task`, first waiting for a free slot. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running)
    if (this.failure) throw asError(this.failure)
    const p: Promise<void> = task().then(
      () => void this.running.delete(p),
      (error: unknown) => {
        this.failure ??= error
        this.running.delete(p)
      }
    )
    this.running.add(p)
  }

  async drain(): Promise<void> {
    await Promise.all(this.running)
    if (this.failure) throw asError(this.failure)
  }
}

/** Maps `items` through `task`, `limit` at a time, keeping their order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await task(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure))
}
