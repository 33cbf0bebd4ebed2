import { afterAll } from '@jest/globals'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

const made: string[] = []
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A temporary directory, removed after the test file. */
export async function tempDir(prefix = 'paths-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * A workspace holding `files` (path → content; a value `{ link }` makes a symbolic link to that
 * target, relative to the link's folder or absolute; a value `{ dir: true }` makes an empty folder).
 */
export async function makeWorkspace(files: Record<string, string | { link: string } | { dir: true }> = {}): Promise<string> {
  const ws = await tempDir('ws-')
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(ws, file)
    await mkdir(path.dirname(abs), { recursive: true })
    if (typeof content === 'string') await writeFile(abs, content)
    else if ('link' in content) await symlink(content.link, abs)
    else await mkdir(abs, { recursive: true })
  }
  return ws
}
