import path from 'node:path'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** A new private temporary directory under the runner's temp folder (made if missing), or the system's. */
export async function makeTempDir(prefix: string): Promise<string> {
  const base = process.env.RUNNER_TEMP || tmpdir()
  await mkdir(base, { recursive: true })
  return mkdtemp(path.join(base, prefix))
}

/** The sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
