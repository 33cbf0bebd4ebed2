/**
 * The prompt sources: prompt files from the `prompts` globs, `data` rows filled into a `template`,
 * and ready-made `requests`, turned into Messages API requests one at a time.
 *
 * Streaming: requests are yielded as they are read. CSV and JSONL files (data and requests) are
 * never held whole, so they are the formats for big data; a JSON array data file is parsed whole.
 *
 * Every problem found is reported through `ctx.problem` and reading goes on, so a run with several
 * mistakes shows them all at once; a file or row with a problem gives no request.
 */
import type { PromptRequest, SourceContext } from './types.js'
import { findPromptFiles, markdownTarget, relativeToBase, type PromptFile } from './files.js'
import { parseMarkdown } from './markdown.js'
import { parsePromptYaml, promptYamlRequests } from './prompt-yaml.js'
import { render } from './prompt.js'
import { dataRequests, loadTemplate } from './data.js'
import { jsonlRequests } from './requests.js'
import { dataFormat, withoutPromptExtension } from './kinds.js'
import { openWorkspace, resolveInputFile, type InputFile, type Workspace } from '../paths/workspace.js'
import { decodeUtf8 } from './text.js'
import { mapOrdered, READ_CONCURRENCY } from './ordered.js'
import { nodeReadFs, type ReadFs } from './read-fs.js'
import { loadSchemaFile, resolveSchema } from './schema.js'
import path from 'node:path'

export type { PromptRequest, SourceContext } from './types.js'

export interface SourceInputs {
  /** Glob patterns from the `prompts` input (blank lines and `#` comments removed); `!pattern` excludes. */
  prompts: string[]
  /** True when the user left `prompts` at its default `prompts/**\/*`. */
  promptsIsDefault: boolean
  /** Workspace-relative path of a data file (CSV, JSONL or JSON array). */
  data?: string
  /** Workspace-relative path of the template prompt file for `data`. */
  template?: string
  /** Workspace-relative path of a JSONL file of ready-made {custom_id, params}. */
  requests?: string
  /**
   * Workspace-relative path of the `system-prompt-file` (read by the inputs): never a prompt
   * itself, and listed among the files read so no output may overwrite it.
   */
  systemPromptFile?: string
  /** The file-system calls for prompt files (a test counts them); Node's by default. */
  fs?: ReadFs
  /** Workspace-relative path of the `schema-file` input: the JSON Schema for prompts that name none. */
  schemaFile?: string
}

/**
 * The requests, plus the workspace-relative path of every file read to make them (prompt files,
 * data, template, requests, system prompt file), filled in as reading goes. Complete once the
 * stream has ended: planning uses it to keep outputs off every source.
 */
export interface SourceStream extends AsyncGenerator<PromptRequest> {
  readonly files: ReadonlySet<string>
  /** The real path of one of `files`, as found when it was read (so it need not be resolved again), or undefined. */
  real(file: string): string | undefined
}

/** Prompt files first (in pattern order, sorted by path), then data rows, then ready-made requests. */
export function readSources(inputs: SourceInputs, ctx: SourceContext): SourceStream {
  const files = new Set<string>()
  // Real paths are kept only where links make them differ from the workspace's real path + file.
  const reals = new Map<string, string>()
  let wsReal: string | undefined
  const real = (file: string): string | undefined => reals.get(file) ?? (wsReal !== undefined && files.has(file) ? path.join(wsReal, file) : undefined)
  const found = (ws: Workspace): void => {
    wsReal = ws.real
  }
  return Object.assign(generate(inputs, ctx, files, reals, found), { files, real })
}

async function* generate(inputs: SourceInputs, outer: SourceContext, read: Set<string>, reals: Map<string, string>, found: (ws: Workspace) => void): AsyncGenerator<PromptRequest> {
  const ws = await openWorkspace(outer.workspace)
  found(ws)
  // The schema-file input: the schema of every prompt (and template) that names none.
  const schema = inputs.schemaFile ? await loadSchemaFile(inputs.schemaFile, undefined, outer, read) : undefined
  const ctx: SourceContext = schema ? { ...outer, defaults: { ...outer.defaults, schema } } : outer

  const data = inputs.data ? await inputFile(ws, 'data', inputs.data, ctx) : undefined
  const format = data && dataFormat(data.file)
  if (data && !format) {
    ctx.problem({
      file: data.file,
      message: `Input data: "${data.file}" is not a data file. Use .csv (with a header row), .jsonl (one JSON object per line) or .json (an array of objects).`
    })
  }
  const template = inputs.template ? await inputFile(ws, 'template', inputs.template, ctx) : undefined
  const requests = inputs.requests ? await inputFile(ws, 'requests', inputs.requests, ctx) : undefined
  if (inputs.data && !inputs.template) {
    ctx.problem({ message: 'Input data is set but template is not: set template to the prompt file to fill with each row.' })
  }
  if (inputs.template && !inputs.data) {
    ctx.problem({ message: 'Input template is set but data is not: set data to the CSV, JSONL or JSON file whose rows fill the template.' })
  }

  const named = [data, template, requests].filter((f) => f !== undefined)
  for (const f of named) {
    read.add(f.file)
    reals.set(f.file, f.real)
  }
  if (inputs.systemPromptFile) read.add(inputs.systemPromptFile)
  const systemReal = await systemPromptReal(ws, inputs.systemPromptFile)
  if (inputs.systemPromptFile && systemReal[0] !== undefined) reals.set(inputs.systemPromptFile, systemReal[0])
  const otherSources = Boolean(inputs.data || inputs.requests || inputs.template)
  if (inputs.prompts.length > 0) {
    const files = await findPromptFiles(inputs.prompts, ws, ctx, {
      isDefault: inputs.promptsIsDefault,
      otherSources,
      reserved: new Set([inputs.data, inputs.template, inputs.requests, inputs.systemPromptFile, ...named.map((f) => f.file)].filter((f) => f !== undefined)),
      reservedReal: new Set([...named.map((f) => f.real), ...systemReal]),
      fs: inputs.fs
    })
    // Read many at a time (each read waits on the thread pool); parsed and yielded in path order.
    const fs = inputs.fs ?? nodeReadFs
    const load = async (p: PromptFile): Promise<{ p: PromptFile; bytes?: Uint8Array; error?: unknown }> => {
      try {
        return { p, bytes: await fs.readFile(path.resolve(ws.root, p.file)) }
      } catch (error) {
        return { p, error }
      }
    }
    for await (const loaded of mapOrdered(files, READ_CONCURRENCY, load)) {
      read.add(loaded.p.file)
      if (loaded.p.real !== undefined) reals.set(loaded.p.file, loaded.p.real)
      yield* promptFileRequests(loaded, ctx, read)
    }
  } else if (!otherSources) {
    ctx.problem({ message: 'No prompts found: put prompt files under prompts/ or set the prompts, data or requests input.' })
  }

  if (data && format) {
    const spec = template ? await loadTemplate(template.file, template.abs, ctx, read) : undefined
    yield* dataRequests({ file: data.file, abs: data.abs, format }, spec, ctx)
  } else if (template) {
    // Still check the template, so its own mistakes are reported in the same run.
    await loadTemplate(template.file, template.abs, ctx, read)
  }

  if (requests) yield* jsonlRequests(requests.file, requests.abs, ctx)
}

async function* promptFileRequests(loaded: { p: PromptFile; bytes?: Uint8Array; error?: unknown }, ctx: SourceContext, readFiles: Set<string>): AsyncGenerator<PromptRequest> {
  const { p } = loaded
  if (!loaded.bytes) {
    ctx.problem({ file: p.file, message: `Cannot read this prompt file: ${(loaded.error as Error).message}` })
    return
  }
  const read = decodeUtf8(loaded.bytes, p.file)
  if (read.error !== undefined) {
    ctx.problem({ file: p.file, message: read.error })
    return
  }
  const text = read.text
  if (p.kind === 'prompt-yaml') {
    const parsed = parsePromptYaml(text, p.file, ctx)
    if (parsed && (await resolveSchema(parsed.spec, ctx, readFiles))) yield* promptYamlRequests(parsed, withoutPromptExtension(relativeToBase(p.file, p.base)), ctx)
    return
  }
  const parsed = parseMarkdown(text, p.file, ctx)
  if (!parsed || !(await resolveSchema(parsed.spec, ctx, readFiles))) return
  const target = markdownTarget(p, ctx.outputDir, parsed.spec.schema !== undefined)
  yield {
    key: target.key,
    params: render(parsed.spec, ctx.defaults.system).params,
    // A front matter `output` carries its line, so a refused path is annotated where it is written.
    output: parsed.output ? { kind: 'file', path: parsed.output.path, line: parsed.output.line } : { kind: 'file', path: target.path },
    origin: { file: p.file, line: parsed.spec.line }
  }
}

/** A file named by the data, template or requests input, checked to be a readable file in the workspace. */
async function inputFile(ws: Workspace, name: 'data' | 'template' | 'requests', value: string, ctx: SourceContext): Promise<InputFile | undefined> {
  const found = await resolveInputFile(ws, name, value)
  if ('error' in found) {
    ctx.problem(found.error)
    return undefined
  }
  return found
}

/** The system prompt file's real path, so a prompt glob reaching it through a link skips it too. */
async function systemPromptReal(ws: Workspace, file: string | undefined): Promise<string[]> {
  if (!file) return []
  const found = await resolveInputFile(ws, 'system-prompt-file', file)
  return 'error' in found ? [] : [found.real]
}
