import { afterAll } from '@jest/globals'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readSources, type SourceInputs } from '../../src/sources/index.js'
import type { Problem, PromptRequest, SourceContext } from '../../src/sources/types.js'

// @actions/glob logs its options with core.debug (`::debug::` lines, hidden on a runner); keep test output readable.
const write0 = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: unknown, ...rest: never[]) =>
  typeof chunk === 'string' && chunk.startsWith('::debug::') ? true : write0(chunk as string, ...rest)) as typeof process.stdout.write

const made: string[] = []
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A temporary workspace holding `files` (path → content), removed after the test file. */
export async function workspace(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sources-'))
  made.push(dir)
  await write(dir, files)
  return dir
}

export async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await writeFile(path.join(dir, file), content)
  }
}

export interface Collected {
  requests: PromptRequest[]
  problems: Problem[]
  warnings: Problem[]
}

export function context(ws: string, overrides: Partial<SourceContext> = {}): SourceContext & { problems: Problem[]; warnings: Problem[] } {
  const problems: Problem[] = []
  const warnings: Problem[] = []
  return {
    workspace: ws,
    outputDir: 'generated',
    defaults: { model: 'claude-default', maxTokens: 1000 },
    problem: (p) => problems.push(p),
    warning: (p) => warnings.push(p),
    ...overrides,
    problems,
    warnings
  }
}

/** Runs every source to the end. */
export async function collect(ws: string, inputs: Partial<SourceInputs>, overrides: Partial<SourceContext> = {}): Promise<Collected> {
  const ctx = context(ws, overrides)
  const requests: PromptRequest[] = []
  for await (const r of readSources({ prompts: [], promptsIsDefault: false, ...inputs }, ctx)) requests.push(r)
  return { requests, problems: ctx.problems, warnings: ctx.warnings }
}

/** Just the prompt files matched by `patterns`. */
export function prompts(ws: string, patterns: string[] | string, overrides: Partial<SourceContext> = {}): Promise<Collected> {
  return collect(ws, { prompts: typeof patterns === 'string' ? [patterns] : patterns }, overrides)
}
