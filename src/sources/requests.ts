/**
 * `requests`: a JSONL file of ready-made batch items, `{"custom_id": "...", "params": {...}}` per
 * line, checked and passed through as is. Streamed: a file of any size is never held whole.
 */
import path from 'node:path'
import type { MessageParams, PromptRequest, SourceContext } from './types.js'
import { readLines } from './lines.js'
import { CUSTOM_ID_PATTERN, isPlainObject, messagesProblem, refusedParam } from './params.js'
import { LimitedProblems } from './report.js'

export async function* jsonlRequests(file: string, abs: string, ctx: SourceContext): AsyncGenerator<PromptRequest> {
  const problems = new LimitedProblems(ctx, file)
  const stem = path.posix.basename(file).replace(/\.[^.]*$/, '') || path.posix.basename(file)
  /** custom_id → line of its first use. */
  const ids = new Map<string, number>()
  let row = 0
  try {
    for await (const { text, line } of readLines(abs)) {
      if (text.trim() === '') continue
      row++
      const bad = (kind: string, message: string): void => problems.report(kind, { file, line, message: `Line ${line}: ${message}` })
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        bad('invalid JSON', `not valid JSON (${(error as Error).message}). Each line must be one object {"custom_id": "...", "params": {...}}.`)
        continue
      }
      if (!isPlainObject(value)) {
        bad('not an object', 'not a JSON object. Each line must be one object {"custom_id": "...", "params": {...}}.')
        continue
      }
      let ok = true
      const fail = (kind: string, message: string): void => {
        ok = false
        bad(kind, message)
      }

      const extra = Object.keys(value).filter((k) => k !== 'custom_id' && k !== 'params')
      if (extra.length)
        fail('unknown keys', `unknown ${extra.length === 1 ? 'key' : 'keys'} ${extra.map((k) => JSON.stringify(k)).join(', ')}. A line has only "custom_id" and "params".`)

      const id = value.custom_id
      if (id === undefined) fail('no custom_id', 'no "custom_id". Give each request a unique custom_id.')
      else if (typeof id !== 'string' || !CUSTOM_ID_PATTERN.test(id)) {
        fail('bad custom_id', `custom_id ${JSON.stringify(id)} must match ${CUSTOM_ID_PATTERN.source}: 1 to 64 letters, digits, "-" or "_".`)
      } else {
        const first = ids.get(id)
        if (first !== undefined) fail('duplicate custom_id', `custom_id "${id}" is already used on line ${first}. Each custom_id must be unique.`)
        else ids.set(id, line)
      }

      const params = value.params
      if (params === undefined) fail('no params', 'no "params". Add the Messages API request: {"model": "...", "max_tokens": 1024, "messages": [...]}.')
      else if (!isPlainObject(params)) fail('bad params', '"params" must be an object (a Messages API request).')
      else {
        if (typeof params.model !== 'string' || params.model.trim() === '') fail('params.model', '"params.model" must be a model name.')
        const max = params.max_tokens
        if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) fail('params.max_tokens', '"params.max_tokens" must be a whole number of at least 1.')
        const messages = messagesProblem(params.messages, 'params.messages')
        if (messages) fail('params.messages', messages)
        for (const key of Object.keys(params)) {
          const why = refusedParam(key)
          if (why) fail(`params.${key}`, `"params.${key}" is not allowed: ${why}`)
        }
      }
      if (!ok) continue
      const customId = id as string
      yield {
        key: customId,
        customId,
        params: params as MessageParams,
        output: { kind: 'file', path: path.posix.join(ctx.outputDir, stem, `${customId}.md`) },
        origin: { file, line, row }
      }
    }
  } catch (error) {
    ctx.problem({ file, message: `Cannot read the requests file: ${(error as Error).message}` })
  }
  problems.finish()
}
