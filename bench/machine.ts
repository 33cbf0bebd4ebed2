/** What the numbers were measured on: the machine, Node, the packages that do the work, and the bundle measured. */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DIST, ROOT } from '../test/support/run-action.js'

const PACKAGES = ['@anthropic-ai/sdk', '@actions/core', '@actions/artifact', 'csv-parse', 'csv-stringify', 'yaml', 'typescript', '@vercel/ncc', 'tinybench']

export interface Machine {
  cpu: string
  cores: number
  memoryGb: number
  os: string
  node: string
  packages: Array<[string, string]>
  commit: string
  dist: string
}

export function machine(): Machine {
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
    } catch {
      return 'not installed'
    }
  }
  let commit = 'unknown'
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'dist'], { cwd: ROOT, encoding: 'utf8' }).trim()
    commit = dirty ? `${head} (with uncommitted changes in src/ or dist/)` : head
  } catch {
    // Not a git checkout: the bundle's hash below still identifies what was measured.
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages: PACKAGES.map((p) => [p, version(p)]),
    commit,
    dist: createHash('sha256').update(readFileSync(DIST)).digest('hex').slice(0, 12)
  }
}

/** The 1-minute load average, as a hint of how busy the machine was (0 on Windows). */
export const load = () => os.loadavg()[0]!.toFixed(2)
