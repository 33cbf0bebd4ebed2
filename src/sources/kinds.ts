/** Which files are prompts, by name. */
import type { DataFormat } from './types.js'

export type PromptKind = 'markdown' | 'prompt-yaml'

const PROMPT_YAML = /\.prompt\.ya?ml$/i
const MARKDOWN = /(?:\.prompt\.md|\.md|\.markdown|\.txt)$/i

export function promptKind(file: string): PromptKind | undefined {
  if (PROMPT_YAML.test(file)) return 'prompt-yaml'
  if (MARKDOWN.test(file)) return 'markdown'
  return undefined
}

/** The name without its prompt extension: `a/b.prompt.yml` → `a/b`, `a/b.prompt.md` → `a/b`, `a/b.md` → `a/b`. */
export function withoutPromptExtension(file: string): string {
  return file.replace(PROMPT_YAML, '').replace(MARKDOWN, '')
}

export function dataFormat(file: string): DataFormat | undefined {
  const ext = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase()
  if (ext === 'csv') return 'csv'
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl'
  if (ext === 'json') return 'json'
  return undefined
}

export const PROMPT_EXTENSIONS_TEXT = '.md, .txt or .prompt.yml'
