import { inflateRawSync } from 'node:zlib'

/**
 * Reads one file out of an artifact's zip, as downloaded. Throws on anything that is not a whole
 * zip: a download cut short is a transient failure to the caller, not a manifest to judge.
 * The artifact client streams its zips, so sizes are read from the central directory (the local
 * headers carry zeros). Stored and deflated entries, no zip64: manifests are far below 4 GiB.
 */
export class BrokenZipError extends Error {
  override readonly name = 'BrokenZipError'
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50
const LOCAL_FILE_HEADER = 0x04034b50

/** The entry named `name`, or undefined when the zip is whole but has no such file. */
export function readZipEntry(zip: Buffer, name: string): Buffer | undefined {
  try {
    return read(zip, name)
  } catch (error) {
    if (error instanceof BrokenZipError) throw error
    // Offsets past the end (RangeError), bad deflate data (zlib): all mean the bytes are not a whole zip.
    throw new BrokenZipError(`the artifact is not a readable zip (${(error as Error).message})`)
  }
}

function read(zip: Buffer, name: string): Buffer | undefined {
  // The end record is at most 22 bytes + a 64 KiB comment from the end.
  let end = zip.length - 22
  const stop = Math.max(0, zip.length - 22 - 0xffff)
  while (end >= stop && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end--
  if (end < stop || end < 0) throw new BrokenZipError('the artifact is not a whole zip (no end of central directory)')
  const count = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new BrokenZipError('the artifact zip has a corrupt central directory')
    const method = zip.readUInt16LE(offset + 10)
    const compressedSize = zip.readUInt32LE(offset + 20)
    const size = zip.readUInt32LE(offset + 24)
    const nameLength = zip.readUInt16LE(offset + 28)
    const extraLength = zip.readUInt16LE(offset + 30)
    const commentLength = zip.readUInt16LE(offset + 32)
    const local = zip.readUInt32LE(offset + 42)
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength)
    offset += 46 + nameLength + extraLength + commentLength
    if (entryName !== name) continue
    if (zip.readUInt32LE(local) !== LOCAL_FILE_HEADER) throw new BrokenZipError('the artifact zip has a corrupt entry')
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    if (start + compressedSize > zip.length) throw new BrokenZipError('the artifact zip is cut short')
    const data = zip.subarray(start, start + compressedSize)
    const content = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined
    if (!content) throw new BrokenZipError(`the artifact zip uses compression method ${method}`)
    if (content.length !== size) throw new BrokenZipError('the artifact zip entry has the wrong size')
    return content
  }
  return undefined
}
