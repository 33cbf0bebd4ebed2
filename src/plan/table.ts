/**
 * The planned requests in columns: typed arrays and interned strings instead of one object (and its
 * origin, output and strings) per request. A million-row data file is planned in a few tens of
 * bytes a request; each request becomes an object only while someone looks at it.
 *
 * `view()` is what the rest of the action sees: a read-only array of `PlannedRequest` (index,
 * `length`, `map`, `forEach`…), whose elements are made on each access, so they are equal, not
 * identical, from one access to the next, and writing to one changes nothing.
 */
import type { DataFormat, Origin, OutputTarget } from '../sources/types.js'
import type { PlannedRequest } from './plan.js'
import type { CacheKeys } from './cache.js'

/** Each distinct string once, by number: paths, models, file names shared by many requests. */
export class Interned {
  private readonly ids = new Map<string, number>()
  private readonly values: string[] = []

  id(value: string): number {
    let id = this.ids.get(value)
    if (id === undefined) {
      id = this.values.length
      this.values.push(value)
      this.ids.set(value, id)
    }
    return id
  }

  at(id: number): string {
    return this.values[id]!
  }
}

/** Strings appended in order and read back by position, stored as UTF-8 in one growing buffer. */
export class StringList {
  private bytes: Buffer = Buffer.allocUnsafe(1 << 16)
  private ends: Float64Array = new Float64Array(1024)
  private used = 0
  length = 0

  push(value: string): void {
    const need = Buffer.byteLength(value)
    if (this.used + need > this.bytes.length) this.bytes = grow(this.bytes, this.used + need)
    this.bytes.write(value, this.used)
    this.used += need
    if (this.length === this.ends.length) this.ends = growFloats(this.ends)
    this.ends[this.length++] = this.used
  }

  at(i: number): string {
    const start = i === 0 ? 0 : this.ends[i - 1]!
    return this.bytes.toString('utf8', start, this.ends[i])
  }
}

const NONE = 0
const FILE = 1
const DATA_ROW = 2
const FORMATS: readonly DataFormat[] = ['csv', 'jsonl', 'json']

/** A column of numbers that grows as rows are added. */
class Column<T extends Float64Array | Int32Array | Uint32Array | Uint8Array> {
  constructor(public data: T) {}
  set(i: number, value: number): void {
    if (i >= this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(16, this.data.length * 2))
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[i] = value
  }
}

export class RequestTable {
  private readonly strings = new Interned()
  private readonly file = new Column(new Uint32Array(16))
  // 1-based lines and rows; 0 is "not known".
  private readonly line = new Column(new Int32Array(16))
  private readonly row = new Column(new Int32Array(16))
  private readonly outKind = new Column(new Uint8Array(16))
  private readonly outPath = new Column(new Uint32Array(16))
  private readonly outSource = new Column(new Uint32Array(16))
  private readonly outFormat = new Column(new Uint8Array(16))
  private readonly outIndex = new Column(new Int32Array(16))
  private readonly model = new Column(new Uint32Array(16))
  private readonly maxTokens = new Column(new Float64Array(16))
  // Interned id + 1; 0 is "no thinking type".
  private readonly thinking = new Column(new Uint32Array(16))
  // Index into Plan.schemas + 1; 0 is "no schema".
  private readonly schema = new Column(new Uint32Array(16))
  // Index into `cacheKeys` + 1; 0 is "no cacheable prefix". Rows sharing their prefixes share one object.
  private readonly cache = new Column(new Uint32Array(16))
  private readonly cacheKeys: CacheKeys[] = []
  private readonly cacheIndex = new Map<CacheKeys, number>()
  private readonly offset = new Column(new Float64Array(16))
  private readonly bytes = new Column(new Float64Array(16))
  /** 16 bytes a request: the fingerprint's hex is 32 characters. */
  private fingerprints = new Uint8Array(16 * 16)
  private readonly customIds = new StringList()
  length = 0

  /** Adds a request; its custom_id may be left '' and given later, in order, with `setCustomIds`. */
  push(r: PlannedRequest): number {
    const i = this.length++
    this.file.set(i, this.strings.id(r.origin.file))
    this.line.set(i, r.origin.line ?? 0)
    this.row.set(i, r.origin.row ?? 0)
    const o = r.output
    this.outKind.set(i, !o ? NONE : o.kind === 'file' ? FILE : DATA_ROW)
    if (o) this.outPath.set(i, this.strings.id(o.path))
    if (o?.kind === 'data-row') {
      this.outSource.set(i, this.strings.id(o.source))
      this.outFormat.set(i, FORMATS.indexOf(o.format))
      this.outIndex.set(i, o.index)
    }
    this.model.set(i, this.strings.id(r.model))
    this.maxTokens.set(i, r.maxTokens)
    this.thinking.set(i, r.thinking === undefined ? 0 : this.strings.id(r.thinking) + 1)
    this.schema.set(i, r.schema === undefined ? 0 : r.schema + 1)
    if (r.cache) {
      let n = this.cacheIndex.get(r.cache)
      if (n === undefined) this.cacheIndex.set(r.cache, (n = this.cacheKeys.push(r.cache) - 1))
      this.cache.set(i, n + 1)
    } else this.cache.set(i, 0)
    this.offset.set(i, r.offset)
    this.bytes.set(i, r.bytes)
    if (r.fingerprint !== undefined) {
      if ((i + 1) * 16 > this.fingerprints.length) {
        const bigger = new Uint8Array(this.fingerprints.length * 2)
        bigger.set(this.fingerprints)
        this.fingerprints = bigger
      }
      this.fingerprints.set(Buffer.from(r.fingerprint, 'hex'), i * 16)
    }
    if (r.customId) this.customIds.push(r.customId)
    return i
  }

  /** The custom_ids of every request, in order (they are known only once all are read). */
  setCustomIds(ids: Iterable<string>): void {
    for (const id of ids) this.customIds.push(id)
  }

  customId(i: number): string {
    return i < this.customIds.length ? this.customIds.at(i) : ''
  }

  origin(i: number): Origin {
    const line = this.line.data[i]!
    const row = this.row.data[i]!
    const origin: Origin = { file: this.strings.at(this.file.data[i]!) }
    if (line) origin.line = line
    if (row) origin.row = row
    return origin
  }

  output(i: number): OutputTarget | undefined {
    const kind = this.outKind.data[i]
    if (kind === NONE) return undefined
    const path = this.strings.at(this.outPath.data[i]!)
    if (kind === FILE) return { kind: 'file', path }
    return { kind: 'data-row', path, source: this.strings.at(this.outSource.data[i]!), format: FORMATS[this.outFormat.data[i]!]!, index: this.outIndex.data[i]! }
  }

  cacheOf(i: number): CacheKeys | undefined {
    const n = this.cache.data[i]!
    return n ? this.cacheKeys[n - 1] : undefined
  }

  bytesOf(i: number): number {
    return this.bytes.data[i]!
  }

  /** How many files the requests come from. */
  fileCount(): number {
    return new Set(this.file.data.subarray(0, this.length)).size
  }

  /** Request i as a plain object, every field decoded (for a copy that outlives the table). */
  get(i: number): PlannedRequest {
    const output = this.output(i)
    const request: PlannedRequest = {
      customId: this.customId(i),
      output,
      origin: this.origin(i),
      model: this.modelOf(i),
      maxTokens: this.maxTokens.data[i]!,
      thinking: this.thinkingOf(i),
      offset: this.offset.data[i]!,
      bytes: this.bytes.data[i]!
    }
    const cache = this.cacheOf(i)
    if (cache) request.cache = cache
    const schema = this.schemaOf(i)
    if (schema !== undefined) request.schema = schema
    if (output) request.fingerprint = this.fingerprintOf(i)
    return request
  }

  /** Request i as the view hands it out: a row whose fields are decoded only when read. */
  rowAt(i: number): PlannedRequest {
    return new Row(this, i)
  }

  fileOf(i: number): string {
    return this.strings.at(this.file.data[i]!)
  }

  modelOf(i: number): string {
    return this.strings.at(this.model.data[i]!)
  }

  maxTokensOf(i: number): number {
    return this.maxTokens.data[i]!
  }

  offsetOf(i: number): number {
    return this.offset.data[i]!
  }

  thinkingOf(i: number): string | undefined {
    const thinking = this.thinking.data[i]!
    return thinking ? this.strings.at(thinking - 1) : undefined
  }

  schemaOf(i: number): number | undefined {
    const schema = this.schema.data[i]!
    return schema ? schema - 1 : undefined
  }

  fingerprintOf(i: number): string | undefined {
    if (this.outKind.data[i] === NONE) return undefined
    return Buffer.from(this.fingerprints.buffer, this.fingerprints.byteOffset + i * 16, 16).toString('hex')
  }

  /** The requests as a read-only array whose elements are made on access. */
  view(): PlannedRequest[] {
    return viewOf(this)
  }
}

/**
 * A request of a table as the rest of the action sees it. A loop over 1,000,000 requests that reads
 * one field (the model, the size) should not pay for decoding the others (the custom_id, the
 * fingerprint, the origin): each field is read from the columns when asked for. Spreading a row
 * copies nothing (its fields are getters): use `plainRequest` for a copy.
 */
class Row implements PlannedRequest {
  readonly #table: RequestTable
  readonly #i: number

  constructor(table: RequestTable, i: number) {
    this.#table = table
    this.#i = i
  }

  get customId(): string {
    return this.#table.customId(this.#i)
  }
  get output(): OutputTarget | undefined {
    return this.#table.output(this.#i)
  }
  get origin(): Origin {
    return this.#table.origin(this.#i)
  }
  get model(): string {
    return this.#table.modelOf(this.#i)
  }
  get maxTokens(): number {
    return this.#table.maxTokensOf(this.#i)
  }
  get thinking(): string | undefined {
    return this.#table.thinkingOf(this.#i)
  }
  get offset(): number {
    return this.#table.offsetOf(this.#i)
  }
  get bytes(): number {
    return this.#table.bytesOf(this.#i)
  }
  get fingerprint(): string | undefined {
    return this.#table.fingerprintOf(this.#i)
  }
  get schema(): number | undefined {
    return this.#table.schemaOf(this.#i)
  }
  get cache(): CacheKeys | undefined {
    return this.#table.cacheOf(this.#i)
  }

  toJSON(): PlannedRequest {
    return this.#table.get(this.#i)
  }

  plain(): PlannedRequest {
    return this.#table.get(this.#i)
  }
}

/** The fields a loop over every request reads, straight from the columns when there is a table. */
export interface RequestColumns {
  customId(i: number): string
  model(i: number): string
  bytes(i: number): number
  maxTokens(i: number): number
  file(i: number): string
  thinking(i: number): string | undefined
  schema(i: number): number | undefined
  cache(i: number): CacheKeys | undefined
}

export function columnsOf(requests: readonly PlannedRequest[]): RequestColumns {
  const t = tableOf(requests)
  if (t)
    return {
      customId: (i) => t.customId(i),
      model: (i) => t.modelOf(i),
      bytes: (i) => t.bytesOf(i),
      maxTokens: (i) => t.maxTokensOf(i),
      file: (i) => t.fileOf(i),
      thinking: (i) => t.thinkingOf(i),
      schema: (i) => t.schemaOf(i),
      cache: (i) => t.cacheOf(i)
    }
  return {
    customId: (i) => requests[i]!.customId,
    model: (i) => requests[i]!.model,
    bytes: (i) => requests[i]!.bytes,
    maxTokens: (i) => requests[i]!.maxTokens,
    file: (i) => requests[i]!.origin.file,
    thinking: (i) => requests[i]!.thinking,
    schema: (i) => requests[i]!.schema,
    cache: (i) => requests[i]!.cache
  }
}

/** A planned request as a plain object whose fields can be spread or changed. */
export function plainRequest(r: PlannedRequest): PlannedRequest {
  return r instanceof Row ? r.plain() : { ...r }
}

const tables = new WeakMap<object, RequestTable>()

/** The table behind a view, for code that can read columns without making objects. */
export function tableOf(requests: readonly PlannedRequest[]): RequestTable | undefined {
  return tables.get(requests)
}

function viewOf(table: RequestTable): PlannedRequest[] {
  const index = (key: string | symbol): number | undefined => {
    if (typeof key !== 'string') return undefined
    const n = Number(key)
    return Number.isInteger(n) && n >= 0 && String(n) === key && n < table.length ? n : undefined
  }
  const refuse = (): boolean => {
    throw new TypeError('planned requests are read-only')
  }
  const view = new Proxy([] as PlannedRequest[], {
    get(target, key, receiver) {
      if (key === 'length') return table.length
      const i = index(key)
      if (i !== undefined) return table.rowAt(i)
      return Reflect.get(target, key, receiver) as unknown
    },
    has(target, key) {
      return key === 'length' || index(key) !== undefined || Reflect.has(target, key)
    },
    getOwnPropertyDescriptor(target, key) {
      if (key === 'length') return { value: table.length, writable: true, enumerable: false, configurable: false }
      const i = index(key)
      if (i !== undefined) return { value: table.rowAt(i), writable: false, enumerable: true, configurable: true }
      return Reflect.getOwnPropertyDescriptor(target, key)
    },
    ownKeys() {
      return [...Array.from({ length: table.length }, (_, i) => String(i)), 'length']
    },
    set: refuse,
    deleteProperty: refuse,
    defineProperty: refuse
  })
  tables.set(view, table)
  return view
}

function grow(buffer: Buffer, need: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(need, buffer.length * 2))
  buffer.copy(bigger)
  return bigger
}

function growFloats(a: Float64Array): Float64Array {
  const bigger = new Float64Array(a.length * 2)
  bigger.set(a)
  return bigger
}
