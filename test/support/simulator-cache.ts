/**
 * Prompt caching in the simulator, after Anthropic's prompt caching docs (platform.claude.com/docs/en/
 * build-with-claude/prompt-caching), not after what the action does:
 * - a breakpoint is a block with `cache_control` (in `tools`, `system` or a message's content; a top-level
 *   `cache_control` puts one on the last block of the last message). Its prefix is everything before it in the
 *   order tools → system → messages, the block included, for that model;
 * - a prefix shorter than the model's minimum cacheable length is not cached (no error, plain input);
 * - within a batch, processed in submission order, the first succeeded request with a prefix writes it
 *   (`cache_creation_input_tokens`, split by TTL into `cache_creation.ephemeral_5m/1h_input_tokens`), and
 *   every later one reads the longest prefix already written (`cache_read_input_tokens`); `input_tokens`
 *   is then what was neither read nor written, as the real API reports it.
 * - at most 4 breakpoints, `type: "ephemeral"`, `ttl` "5m" (default) or "1h"; anything else errors the row.
 * Assumptions: a hit is certain (the real thing is best effort in batches); the docs' 20-block lookback
 * is not modelled (only the breakpoints themselves are looked up); tools count as one unit of tokens.
 */
import { createHash } from 'node:crypto'
import { isRecord } from './simulator-http.js'
import type { SimModel } from './simulator-models.js'
import { blockTokens, MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS, stableStringify, textTokens } from './simulator-text.js'

/** Minimum cacheable prompt length by model id ("Cache limitations", the docs as of 2026-10-08). */
export const MIN_CACHEABLE_TOKENS: Record<string, number> = {
  'claude-haiku-5-5': 512,
  'claude-sonnet-5-5': 512,
  'claude-opus-5-5': 512,
  'claude-mythos-preview': 2048,
  'claude-sonnet-4-6': 1024,
  'claude-opus-4-6': 4096,
  'claude-haiku-4-5-20251001': 4096,
  'claude-sonnet-4-5-20250929': 1024,
  'claude-3-5-haiku-20241022': 2048
}
/** Assumption: a model added by a test and not in the table above. */
const DEFAULT_MIN_CACHEABLE_TOKENS = 1024

export interface CacheUsage {
  read: number
  write5m: number
  write1h: number
}

interface Breakpoint {
  hash: string
  /** Tokens of the prefix up to and including the block. */
  tokens: number
  ttl: '5m' | '1h'
}

/** The row's error message when its cache_control blocks are malformed, else undefined. */
export function cacheControlProblem(params: Record<string, unknown>): string | undefined {
  const controls = [...controlsOf(params)]
  if (isRecord(params.cache_control)) controls.push(params.cache_control)
  if (controls.length > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${controls.length}.`
  for (const c of controls) {
    if (!isRecord(c) || c.type !== 'ephemeral') return "cache_control.type: Input should be 'ephemeral'"
    if (c.ttl !== undefined && c.ttl !== '5m' && c.ttl !== '1h') return "cache_control.ttl: Input should be '5m' or '1h'"
  }
  return undefined
}

/**
 * Cache usage of each request of a batch, in submission order; undefined for rows that did not succeed.
 * `total` is each request's whole input (the simulator's one counter), which cached tokens are part of.
 */
export function batchCacheUsage(items: ReadonlyArray<{ params: Record<string, unknown> }>, models: ReadonlyArray<SimModel | undefined>): Array<CacheUsage | undefined> {
  const written = new Set<string>()
  return items.map(({ params }, i) => {
    const model = models[i]
    if (!model) return undefined
    const min = MIN_CACHEABLE_TOKENS[model.id] ?? DEFAULT_MIN_CACHEABLE_TOKENS
    const points = breakpoints(params, model.id).filter((b) => b.tokens >= min)
    let read = 0
    for (const b of points) if (written.has(b.hash)) read = Math.max(read, b.tokens)
    const usage: CacheUsage = { read, write5m: 0, write1h: 0 }
    let covered = read
    for (const b of points) {
      if (b.tokens <= covered) continue
      if (b.ttl === '1h') usage.write1h += b.tokens - covered
      else usage.write5m += b.tokens - covered
      covered = b.tokens
      written.add(b.hash)
    }
    return usage
  })
}

function breakpoints(params: Record<string, unknown>, model: string): Breakpoint[] {
  const points: Breakpoint[] = []
  const prefix: unknown[] = [model]
  let tokens = REQUEST_OVERHEAD_TOKENS
  const at = (block: unknown, extra: unknown[] = []) => {
    const control = isRecord(block) && isRecord(block.cache_control) ? block.cache_control : undefined
    if (control) points.push({ hash: hashOf([...prefix, ...extra]), tokens, ttl: control.ttl === '1h' ? '1h' : '5m' })
  }
  const tools = Array.isArray(params.tools) ? params.tools : []
  if (tools.length) {
    // Tools are one unit of tokens (as the simulator's counter has them): a breakpoint on any tool caches them all.
    tokens += textTokens(JSON.stringify(tools))
    prefix.push(tools.map(withoutControl))
    const marked = tools.find((t) => isRecord(t) && isRecord(t.cache_control))
    if (marked) at(marked)
  }
  for (const block of asBlocks(params.system)) {
    tokens += blockTokens(block)
    prefix.push(withoutControl(block))
    at(block)
  }
  // Changing tool_choice or thinking invalidates the cached messages, not tools and system (the docs' table).
  const messageContext = [params.tool_choice ?? null, params.thinking ?? null]
  const messages = Array.isArray(params.messages) ? params.messages : []
  messages.forEach((message, m) => {
    const content = isRecord(message) ? message.content : undefined
    tokens += MESSAGE_OVERHEAD_TOKENS
    prefix.push(isRecord(message) ? message.role : null)
    const blocks = asBlocks(content)
    blocks.forEach((block, b) => {
      tokens += blockTokens(block)
      prefix.push(withoutControl(block))
      const automatic = isRecord(params.cache_control) && m === messages.length - 1 && b === blocks.length - 1
      at(automatic ? { ...(block as object), cache_control: params.cache_control } : block, messageContext)
    })
  })
  return points
}

function asBlocks(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  return Array.isArray(content) ? content : []
}

function withoutControl(block: unknown): unknown {
  if (!isRecord(block)) return block
  const { cache_control: _control, ...rest } = block
  return rest
}

function* controlsOf(params: Record<string, unknown>): Generator<unknown> {
  const blocks = [
    ...(Array.isArray(params.tools) ? params.tools : []),
    ...(Array.isArray(params.system) ? params.system : []),
    ...(Array.isArray(params.messages) ? params.messages.flatMap((m) => (isRecord(m) && Array.isArray(m.content) ? m.content : [])) : [])
  ]
  for (const block of blocks) if (isRecord(block) && block.cache_control !== undefined) yield block.cache_control
}

function hashOf(parts: unknown[]): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex')
}
