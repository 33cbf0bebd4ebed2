/**
 * Deterministic "model output" and token counting for the Batch API simulator.
 *
 * Two promises matter to the tests that use this:
 * - the same model + system + messages always give the same reply text, in any process, on any day
 *   (the PRNG is seeded from a sha256 of a canonical JSON of the request);
 * - `estimateInputTokens` is the ONLY input-token counter: both `count_tokens` and the `usage.input_tokens`
 *   of succeeded rows use it, so a cost estimate made with count_tokens matches what is billed exactly.
 */
import { createHash } from 'node:crypto'

/** Characters per token: a rough but stable rule of thumb for English text. */
const CHARS_PER_TOKEN = 4
/** Tokens added once per request (the real API wraps the prompt in a few special tokens). */
export const REQUEST_OVERHEAD_TOKENS = 3
/** Tokens added per message for the role markers. */
export const MESSAGE_OVERHEAD_TOKENS = 4
/** Flat cost of one image block, whatever its size (an image of about one megapixel is ~1,600 tokens). */
const IMAGE_TOKENS = 1600
/** How much of the prompt the reply's first line quotes. */
const GIST_CHARS = 80

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` hash the same. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** sfc32 seeded from the first 128 bits of a hex digest: small, fast, and identical on every platform. */
export function createPrng(seedHex: string): () => number {
  let [a, b, c, d] = [0, 8, 16, 24].map((i) => Number.parseInt(seedHex.slice(i, i + 8), 16) >>> 0) as [number, number, number, number]
  return () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

export function textTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN)
}

/** Plain text of a `system` field or of a message's `content` (a string or an array of blocks). */
export function plainText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .filter((block): block is { type: 'text'; text: string } => isTextBlock(block))
    .map((block) => block.text)
    .join('\n')
}

function isTextBlock(block: unknown): block is { type: 'text'; text: string } {
  const b = block as { type?: unknown; text?: unknown } | null
  return b !== null && typeof b === 'object' && b.type === 'text' && typeof b.text === 'string'
}

export function blockTokens(block: unknown): number {
  if (isTextBlock(block)) return textTokens(block.text)
  if ((block as { type?: unknown } | null)?.type === 'image') return IMAGE_TOKENS
  // Documents, tool calls and tool results: charge their JSON, which grows with their size like the real thing.
  return textTokens(JSON.stringify(block) ?? '')
}

function contentTokens(content: unknown): number {
  if (typeof content === 'string') return textTokens(content)
  if (Array.isArray(content)) return content.reduce((sum: number, block) => sum + blockTokens(block), 0)
  return 0
}

export interface TokenCountInput {
  system?: unknown
  messages?: unknown
  tools?: unknown
}

/** The single input-token counter (see the module comment). Tolerates malformed input; validation is elsewhere. */
export function estimateInputTokens({ system, messages, tools }: TokenCountInput): number {
  let total = REQUEST_OVERHEAD_TOKENS + contentTokens(system)
  for (const message of Array.isArray(messages) ? messages : []) {
    total += MESSAGE_OVERHEAD_TOKENS + contentTokens((message as { content?: unknown } | null)?.content)
  }
  if (Array.isArray(tools) && tools.length > 0) total += textTokens(JSON.stringify(tools))
  return total
}

/** Text of the last `user` message: where the simulator looks for the gist and for SIMULATE_* triggers. */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return ''
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null
    if (message?.role === 'user') return plainText(message.content)
  }
  return ''
}

export interface ReplyInput {
  /** The resolved model id: it is part of the seed and is named in the reply. */
  model: string
  system?: unknown
  messages: unknown
  maxTokens: number
  stopSequences?: readonly string[]
  /** The full reply, when it is not composed prose (structured output: JSON that fits the schema). */
  text?: string
}

export interface GeneratedReply {
  text: string
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence'
  stopSequence: string | null
  outputTokens: number
}

/** The reply a succeeded request gets: deterministic full text, then cut at a stop sequence or at max_tokens. */
export function generateReply(input: ReplyInput): GeneratedReply {
  const full = input.text ?? composeText(input)
  const stop = earliestStopSequence(full, input.stopSequences ?? [])
  const maxChars = input.maxTokens * CHARS_PER_TOKEN
  if (stop && stop.index <= maxChars) {
    const text = full.slice(0, stop.index)
    return { text, stopReason: 'stop_sequence', stopSequence: stop.sequence, outputTokens: outputTokens(text) }
  }
  if (full.length > maxChars) {
    const text = full.slice(0, maxChars)
    return { text, stopReason: 'max_tokens', stopSequence: null, outputTokens: outputTokens(text) }
  }
  return { text: full, stopReason: 'end_turn', stopSequence: null, outputTokens: outputTokens(full) }
}

// A real reply always costs at least one output token, even when it is empty (stop sequence at position 0).
function outputTokens(text: string): number {
  return Math.max(1, textTokens(text))
}

function earliestStopSequence(text: string, sequences: readonly string[]): { index: number; sequence: string } | null {
  let best: { index: number; sequence: string } | null = null
  for (const sequence of sequences) {
    const index = sequence === '' ? -1 : text.indexOf(sequence)
    if (index >= 0 && (best === null || index < best.index)) best = { index, sequence }
  }
  return best
}

function composeText({ model, system, messages }: ReplyInput): string {
  const seed = sha256Hex(stableStringify({ model, system: system ?? null, messages }))
  const random = createPrng(seed)
  const prompt = lastUserText(messages)
  const keywords = pickKeywords(prompt, random)
  const paragraphCount = 1 + Math.floor(random() * 3)
  const paragraphs = Array.from({ length: paragraphCount }, (_, i) => composeParagraph(random, keywords[i]))
  return [`[Simulated reply from ${model}] Re: "${gist(prompt)}"`, ...paragraphs].join('\n\n')
}

function gist(prompt: string): string {
  const collapsed = prompt.replace(/\s+/g, ' ').trim()
  if (collapsed === '') return '(no text)'
  return collapsed.length > GIST_CHARS ? `${collapsed.slice(0, GIST_CHARS).trimEnd()}…` : collapsed
}

const STOP_WORDS = new Set([
  'about',
  'above',
  'after',
  'again',
  'their',
  'there',
  'these',
  'those',
  'which',
  'while',
  'would',
  'could',
  'should',
  'where',
  'being',
  'other',
  'please',
  'write',
  'explain',
  'describe',
  'under',
  'using',
  'every'
])

/** Up to three distinct longer words of the prompt, so the body visibly relates to what was asked. */
function pickKeywords(prompt: string, random: () => number): string[] {
  const words = [...new Set(prompt.toLowerCase().match(/[a-z][a-z-]{4,}/g) ?? [])].filter((w) => !STOP_WORDS.has(w))
  const chosen: string[] = []
  while (chosen.length < 3 && words.length > 0) chosen.push(words.splice(Math.floor(random() * words.length), 1)[0]!)
  return chosen
}

const OPENERS = ['In short,', 'Put simply,', 'On balance,', 'Looking closer,', 'In practice,', 'Taken together,']
const SUBJECTS = [
  'the main idea',
  'the proposed approach',
  'this question',
  'the underlying trade-off',
  'a careful reading',
  'the simplest explanation',
  'the evidence at hand',
  'a practical plan'
]
const VERBS = ['suggests', 'depends on', 'points toward', 'highlights', 'rests on', 'comes down to', 'benefits from', 'calls for']
const OBJECTS = [
  'a clear structure',
  'small, testable steps',
  'consistent naming',
  'a short summary up front',
  'concrete examples',
  'an honest list of limitations',
  'measuring before optimizing',
  'the needs of the reader'
]
const ENDINGS = ['', ' in most cases', ' without much extra effort', ' over time', ' once the details are checked']

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!
}

function composeParagraph(random: () => number, keyword: string | undefined): string {
  const sentenceCount = 2 + Math.floor(random() * 3)
  const sentences = Array.from({ length: sentenceCount }, () => composeSentence(random))
  if (keyword) sentences.unshift(`Regarding "${keyword}", ${pick(SUBJECTS, random)} ${pick(VERBS, random)} ${pick(OBJECTS, random)}.`)
  return sentences.join(' ')
}

function composeSentence(random: () => number): string {
  const subject = pick(SUBJECTS, random)
  const body = `${subject} ${pick(VERBS, random)} ${pick(OBJECTS, random)}${pick(ENDINGS, random)}.`
  if (random() < 0.5) return `${pick(OPENERS, random)} ${body}`
  return body.charAt(0).toUpperCase() + body.slice(1)
}
