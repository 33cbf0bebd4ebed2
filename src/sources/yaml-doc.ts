/**
 * YAML with file lines: parse errors and keys are reported on the line of the file they sit on,
 * also when the YAML is front matter that starts further down.
 */
import { isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml'
import type { SourceContext } from './types.js'
import type { TemplateText } from './template.js'

const QUOTE_HINT = ' Put the text in quotes ("{{...}} ..."): YAML reads a value starting with {{ as a mapping.'

export class YamlDoc {
  private constructor(
    private readonly source: string,
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly counter: LineCounter,
    private readonly firstLine: number
  ) {}

  /**
   * Parses `text`, whose first line is line `firstLine` of `file`. Reports every YAML error and
   * returns undefined when there were any.
   */
  static parse(text: string, file: string, firstLine: number, ctx: SourceContext): YamlDoc | undefined {
    const counter = new LineCounter()
    const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true })
    const yaml = new YamlDoc(text, file, doc, counter, firstLine)
    const lines = doc.errors.length ? text.split('\n') : []
    const open = doc.errors.length ? unclosed(doc) : []
    for (const error of doc.errors) {
      const pos = counter.linePos(errorStart(error.pos[0], open))
      const hint = /:\s*\{\{/.test(lines[pos.line - 1] ?? '') ? QUOTE_HINT : ''
      ctx.problem({
        file,
        line: pos.line + firstLine - 1,
        column: pos.col,
        message:
          error.code === 'DUPLICATE_KEY'
            ? 'Invalid YAML: this key appears twice in the same mapping. Remove one of them.'
            : `Invalid YAML: ${error.message.split('\n')[0]!.replace(/\.$/, '')}. Fix the syntax on this line.${hint}`
      })
    }
    return doc.errors.length ? undefined : yaml
  }

  get contents(): Node | null {
    return this.doc.contents as Node | null
  }

  /** File line of a node (of its first character). */
  lineOf(node: Node | null | undefined, fallback = this.firstLine): number {
    const start = node?.range?.[0]
    return start === undefined ? fallback : this.counter.linePos(start).line + this.firstLine - 1
  }

  /** The node as plain JS, or (value undefined) an error message, e.g. for an alias to a missing anchor. */
  toJS(node: Node | null | undefined): { value: unknown; error?: string } {
    if (node === null || node === undefined) return { value: null }
    try {
      return { value: node.toJS(this.doc, { maxAliasCount: 100 }) }
    } catch (error) {
      return { value: undefined, error: (error as Error).message }
    }
  }

  /**
   * The entries of a mapping with their keys' lines. A key that is not a plain string is reported
   * and left out.
   */
  entries(map: YAMLMap, ctx: SourceContext): Array<{ key: string; line: number; value: Node | null }> {
    const out: Array<{ key: string; line: number; value: Node | null }> = []
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null
      const line = this.lineOf(keyNode, this.lineOf(map))
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        ctx.problem({ file: this.file, line, message: 'Keys must be plain names (e.g. `model:`).' })
        continue
      }
      out.push({ key: String(keyNode.value), line, value: (pair.value as Node | null) ?? null })
    }
    return out
  }

  /** Advice for a value written as a bare `{{name}} ...`, which YAML reads as a mapping, else ''. */
  quoteHint(node: Node | null | undefined): string {
    const start = node?.range?.[0]
    return start !== undefined && this.source.startsWith('{{', start) ? QUOTE_HINT : ''
  }

  /** A string value as template text with its position (exact per line for `|` block scalars). */
  text(node: Scalar, value: string): TemplateText {
    const start = this.lineOf(node)
    if (node.type === Scalar.BLOCK_LITERAL) return { text: value, line: start + 1, exactLines: true }
    return { text: value, line: start, exactLines: false }
  }
}

/** Flow collections and quoted scalars: where an unclosed `[`, `{` or `"` error really starts. */
function unclosed(doc: Document.Parsed): Array<[number, number]> {
  const found: Array<[number, number]> = []
  visit(doc, (_key, node) => {
    const quoted = isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE)
    if ((quoted || (isCollection(node) && node.flow)) && node.range) found.push([node.range[0], node.range[1]])
  })
  return found
}

/**
 * yaml reports an unclosed bracket or quote where it gave up (often the next line, or the end of the
 * front matter); the line that needs the fix is where the bracket or quote opened.
 */
function errorStart(offset: number, open: ReadonlyArray<[number, number]>): number {
  let start = offset
  for (const [from, to] of open) if (to === offset && from < offset && (start === offset || from > start)) start = from
  return start
}

export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'empty'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return 'text'
  return `${typeof value} ${JSON.stringify(value)}`
}

export { isMap, isScalar, isSeq }
export type { YAMLMap, YAMLSeq, Node }

/** Lower-cased, without `_` and `-`: `maxTokens`, `max-tokens` and `max_tokens` compare equal. */
function loose(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '')
}

/** ` Did you mean "max_tokens"?` when `key` is a differently spelled allowed key, else ''. */
export function didYouMean(key: string, allowed: readonly string[]): string {
  const match = allowed.find((a) => loose(a) === loose(key))
  return match ? ` Did you mean "${match}"?` : ''
}
