import { open, rm, type FileHandle } from 'node:fs/promises'

// Appends are gathered into writes of this size.
const WRITE_BYTES = 1 << 20
// Texts are read back this many at a time (or this many bytes, whichever comes first), all at once.
const BLOCK_TEXTS = 1024
const BLOCK_BYTES = 4 << 20

/**
 * The generated texts of data rows, from the moment their batch is proved until the data file is
 * rewritten: appended to a file in the order results arrive (not the rows' order), found by request
 * index through two typed arrays (12 bytes a request), so that 100,000 texts are never held at once
 * and no result line is read back or parsed again. `reader` reads them in the rows' order a block
 * at a time, the block's reads in parallel and the next block's started before it is needed.
 */
export class TextSpool {
  private handle?: FileHandle
  private offsets?: Float64Array
  private lengths?: Int32Array
  private size = 0
  private pending: Buffer[] = []
  private pendingBytes = 0

  constructor(
    readonly path: string,
    private readonly requests: number
  ) {}

  /** Keeps request `index`'s text (a later one replaces it). */
  async add(index: number, text: string): Promise<void> {
    if (!this.handle) {
      this.handle = await open(this.path, 'w+')
      this.offsets = new Float64Array(this.requests)
      this.lengths = new Int32Array(this.requests).fill(-1)
    }
    const buffer = Buffer.from(text)
    this.offsets![index] = this.size + this.pendingBytes
    this.lengths![index] = buffer.length
    this.pending.push(buffer)
    this.pendingBytes += buffer.length
    if (this.pendingBytes >= WRITE_BYTES) await this.flush()
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return
    const buffer = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    await this.handle!.write(buffer, 0, buffer.length, this.size)
    this.size += buffer.length
  }

  /**
   * A reader for one pass: `next()` gives the text of each request of `order` in turn (undefined
   * for -1 and for requests with no text). Reads ahead, so call it in that order.
   */
  async reader(order: Int32Array): Promise<{ next: () => Promise<string | undefined> }> {
    await this.flush()
    let block: Promise<Array<string | undefined>> = this.readBlock(order, 0)
    block.catch(() => {})
    let blockStart = 0
    let texts: Array<string | undefined> = []
    let at = 0
    return {
      next: async () => {
        if (at >= blockStart + texts.length) {
          blockStart = at
          texts = await block
          // The next block is read while this one is written out. Should this pass stop early, its
          // failure (the spool closed under it) is nobody's concern: the catch keeps it quiet.
          block = this.readBlock(order, blockStart + texts.length)
          block.catch(() => {})
        }
        return texts[at++ - blockStart]
      }
    }
  }

  private async readBlock(order: Int32Array, from: number): Promise<Array<string | undefined>> {
    const reads: Array<Promise<string | undefined>> = []
    let bytes = 0
    for (let k = from; k < order.length && reads.length < BLOCK_TEXTS && bytes < BLOCK_BYTES; k++) {
      const i = order[k]!
      const length = i >= 0 && this.lengths ? this.lengths[i]! : -1
      if (length < 0) {
        reads.push(Promise.resolve(undefined))
        continue
      }
      bytes += length
      reads.push(this.read(this.offsets![i]!, length))
    }
    return Promise.all(reads)
  }

  private async read(offset: number, length: number): Promise<string> {
    const buffer = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await this.handle!.read(buffer, done, length - done, offset + done)
      if (!bytesRead) throw new Error(`${this.path} ended early: it was changed while the results were written`)
      done += bytesRead
    }
    return buffer.toString('utf8')
  }

  /** Closes and removes the file. */
  async close(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    this.offsets = undefined
    this.lengths = undefined
    this.pending = []
    this.pendingBytes = 0
    if (!handle) return
    await handle.close()
    await rm(this.path, { force: true })
  }
}
