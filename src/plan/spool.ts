import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { once } from 'node:events'
import { createHash } from 'node:crypto'

/**
 * The requests' `params`, one JSON line each, on disk: planning writes them once, and submission
 * streams them into the create call, so 100,000 prompts never sit in memory together.
 */
export class SpoolWriter {
  private readonly stream: WriteStream
  private offset = 0
  // The sum (mod 2^64) of every request's hash: a digest of the whole submission that does not
  // depend on the order the files were read in.
  private sum = 0n

  constructor(readonly path: string) {
    this.stream = createWriteStream(path)
  }

  /** Appends one params object; returns where its JSON lies in the file. `key` names the request in the digest. */
  async append(params: unknown, key = ''): Promise<{ offset: number; bytes: number }> {
    const line = Buffer.from(JSON.stringify(params) + '\n')
    this.sum = (this.sum + createHash('sha256').update(key).update('\n').update(line).digest().readBigUInt64BE(0)) & 0xffffffffffffffffn
    const at = { offset: this.offset, bytes: line.length - 1 }
    this.offset += line.length
    if (!this.stream.write(line)) await once(this.stream, 'drain')
    return at
  }

  /** Appends params already serialised (copied from another spool). */
  async appendRaw(json: Buffer): Promise<{ offset: number; bytes: number }> {
    const at = { offset: this.offset, bytes: json.length }
    this.offset += json.length + 1
    if (!this.stream.write(Buffer.concat([json, NEWLINE]))) await once(this.stream, 'drain')
    return at
  }

  async close(): Promise<void> {
    this.stream.end()
    await once(this.stream, 'finish')
  }

  /** What every request appended says, keys and params, as 16 hex digits. */
  digest(): string {
    return this.sum.toString(16).padStart(16, '0')
  }
}

const NEWLINE = Buffer.from('\n')

export interface SpoolItem {
  customId: string
  offset: number
  bytes: number
}

/**
 * The body of a create call, `{"requests":[{"custom_id":…,"params":…},…]}`, produced piece by piece
 * from the spool. The items must be consecutive in the spool (chunks always are).
 */
export async function* batchBody(path: string, items: readonly SpoolItem[]): AsyncGenerator<Buffer> {
  if (items.length === 0) throw new Error('a batch needs at least one request')
  const first = items[0]!
  const last = items[items.length - 1]!
  // Read up to and including the last item's newline, so every item is followed by one.
  const stream = createReadStream(path, { start: first.offset, end: last.offset + last.bytes, highWaterMark: 1 << 20 })
  let index = 0
  let pending: Buffer = Buffer.alloc(0)
  let out: Buffer[] = [Buffer.from('{"requests":[')]
  let outBytes = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    // Items are consecutive, each followed by one newline, so lengths alone cut the stream. An item
    // is taken only once its newline has arrived too: it may start the next chunk.
    for (;;) {
      const item = items[index]
      if (!item || pending.length < item.bytes + 1) break
      const head = `${index ? ',' : ''}{"custom_id":${JSON.stringify(item.customId)},"params":`
      out.push(Buffer.from(head), pending.subarray(0, item.bytes), Buffer.from('}'))
      outBytes += head.length + item.bytes + 1
      pending = pending.subarray(item.bytes + 1)
      index++
    }
    if (outBytes >= 1 << 20) {
      yield Buffer.concat(out)
      out = []
      outBytes = 0
    }
  }
  if (index !== items.length) throw new Error(`the request spool ended after ${index} of ${items.length} requests`)
  out.push(Buffer.from(']}'))
  yield Buffer.concat(out)
}

/** Reads the params of a few requests (token-count samples) without reading the whole spool. */
export async function readParams(path: string, items: ReadonlyArray<{ offset: number; bytes: number }>): Promise<unknown[]> {
  const file = await open(path, 'r')
  try {
    const result: unknown[] = []
    for (const item of items) {
      const buffer = Buffer.alloc(item.bytes)
      await file.read(buffer, 0, item.bytes, item.offset)
      result.push(JSON.parse(buffer.toString('utf8')))
    }
    return result
  } finally {
    await file.close()
  }
}

/** Size in bytes of one item inside the create body, for splitting under the API's size limit. */
export function itemBytes(customId: string, paramsBytes: number): number {
  return `,{"custom_id":${JSON.stringify(customId)},"params":}`.length + paramsBytes
}
export const BODY_ENVELOPE_BYTES = '{"requests":[]}'.length
