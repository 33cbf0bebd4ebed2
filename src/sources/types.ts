import type { Schema } from './schema.js'

/**
 * What every prompt source produces. Sources turn files into requests and know nothing of the API
 * client or of GitHub; planning (ids, path checks, chunking) happens after them.
 */

/** A Messages API request body, as sent in a batch item's `params`. */
export interface MessageParams {
  model: string
  max_tokens: number
  messages: Array<{ role: 'user' | 'assistant'; content: unknown }>
  system?: unknown
  [key: string]: unknown
}

/** Where a request came from, so errors can be annotated on the right file and line. */
export interface Origin {
  /** Workspace-relative POSIX path. */
  file: string
  /** 1-based line in `file`, where known. */
  line?: number
  /** 1-based row for data files, `.prompt.yml` testData and JSONL requests. */
  row?: number
}

/** A problem found before anything is spent: it says which file, which line, and what to change. */
export interface Problem {
  /** Workspace-relative POSIX path, when the problem belongs to a file. */
  file?: string
  line?: number
  column?: number
  message: string
}

export type DataFormat = 'csv' | 'jsonl' | 'json'

/** Where a succeeded request's text goes. Paths are workspace-relative POSIX paths, not yet checked. */
export type OutputTarget =
  | {
      kind: 'file'
      path: string
      /** The line of a front matter `output`, so a refused path is annotated where it is written. */
      line?: number
    }
  | {
      /** One row of a data file: the generated text becomes that row's `output` field. */
      kind: 'data-row'
      /** The data file written: `<output-dir>/<data file name>`. */
      path: string
      /** The input data file it mirrors. */
      source: string
      format: DataFormat
      /** 0-based index of the row in the input data file. */
      index: number
      /** With a schema: its top-level properties, the columns the reply fills (instead of `output`). */
      columns?: string[]
    }

export interface PromptRequest {
  /**
   * A readable, deterministic basis for the custom_id, e.g. `products/widget` or `tickets-17`.
   * Planning turns it into a valid, unique custom_id.
   */
  key: string
  /** Set only by the JSONL `requests` source: the user's own custom_id, used as is once checked. */
  customId?: string
  params: MessageParams
  /** Absent only when a source has nowhere to write (every current source names one). */
  output?: OutputTarget
  origin: Origin
  /**
   * Data + template: where the template's fixed leading text ends (before its first variable), a
   * prefix every row shares and prompt caching may mark (plan/cache.ts).
   */
  cacheLead?: { message: number; chars: number }
}

/** Settings every source shares, from the action's inputs. */
export interface SourceContext {
  /** Absolute path of the workspace; every file read must be inside it. */
  workspace: string
  /** Workspace-relative output directory (e.g. `generated`). */
  outputDir: string
  /** Defaults from the inputs `model`, `max-tokens`, `system-prompt` / `system-prompt-file`. */
  defaults: { model: string; maxTokens: number; system?: string; schema?: Schema }
  /** Reports a problem that must stop the run before anything is submitted. Sources keep going after one. */
  problem(p: Problem): void
  /** Reports something the user should see but which does not stop the run. */
  warning(p: Problem): void
}
