/**
 * Bounded concurrency with ordered results: the file system answers many small calls at once far
 * faster than one after another (100,000 prompt files: each lstat, realpath and read waits on the
 * thread pool), but what the user sees (request order, custom_ids, digests, the order of problems)
 * must not depend on which call answered first.
 */

/** How many file-system calls for prompt files are in flight at once (libuv's pool has 4 threads; more keeps it fed). */
export const READ_CONCURRENCY = 64

/**
 * `work(item)` for every item, at most `limit` running at a time, yielded in the items' order. Work
 * starts ahead of the consumer by up to `limit` items; a rejection is rethrown at its item's turn.
 */
export async function* mapOrdered<T, R>(items: Iterable<T>, limit: number, work: (item: T) => Promise<R>): AsyncGenerator<R> {
  const iterator = items[Symbol.iterator]()
  const pending: Array<Promise<R>> = []
  const fill = (): void => {
    while (pending.length < limit) {
      const next = iterator.next()
      if (next.done) return
      const started = work(next.value)
      // Handled at its turn; until then an early rejection must not count as unhandled.
      started.catch(() => {})
      pending.push(started)
    }
  }
  fill()
  while (pending.length) {
    const result = await pending.shift()!
    fill()
    yield result
  }
}
