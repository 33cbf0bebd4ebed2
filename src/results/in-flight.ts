/**
 * Runs tasks with at most `max` of them under way: `add` returns once the task has started (waiting
 * for room first), `drain` once every task has ended. For file writes, which spend most of their
 * time waiting on the file system: one at a time leaves the main thread idle.
 * Tasks must not reject (each handles its own failure): a rejection is thrown by `drain`.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>()
  private failure: { error: unknown } | undefined

  constructor(private readonly max: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.max) await Promise.race(this.running)
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error }
      })
      .finally(() => this.running.delete(p))
    this.running.add(p)
  }

  async drain(): Promise<void> {
    await Promise.all(this.running)
    if (this.failure) throw this.failure.error
  }
}
