/**
 * The file-system calls that reading prompt files makes, many at a time. Node's callback API, not
 * `fs/promises`: for 100,000 small files its readFile costs half the main-thread time (no FileHandle
 * per file). Injectable, so a test can watch how many calls are in flight.
 */
import fs, { type Stats } from 'node:fs'
import { promisify } from 'node:util'

export interface ReadFs {
  lstat(path: string): Promise<Stats>
  /** The native realpath(3), like `fs/promises`' realpath. */
  realpath(path: string): Promise<string>
  readFile(path: string): Promise<Buffer>
}

export const nodeReadFs: ReadFs = {
  lstat: promisify(fs.lstat) as (path: string) => Promise<Stats>,
  realpath: promisify(fs.realpath.native) as (path: string) => Promise<string>,
  readFile: promisify(fs.readFile) as (path: string) => Promise<Buffer>
}
