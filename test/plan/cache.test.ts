import { describe, expect, it } from '@jest/globals'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildPlan, type Plan } from '../../src/plan/plan.js'
import { CACHE_MARK_BYTES, cachedBody, cacheGroups, cacheKeys, chunkMarks, markParams, MARK_LEAD, MARK_SYSTEM, type CacheMode } from '../../src/plan/cache.js'
import { batchBody } from '../../src/plan/spool.js'
import { fixedLead } from '../../src/sources/template.js'
import type { MessageParams, PromptRequest } from '../../src/sources/types.js'

const HAIKU = 'claude-haiku-4-5' // minimum cacheable prompt: 4,096 tokens
const LONG = 'Style guide. '.repeat(400) // 5,200 bytes: may reach 4,096 tokens
const SHORT = 'Be brief. '.repeat(300) // 3,000 bytes: fewer than 4,096 tokens, whatever the tokenizer

const req = (system: string | undefined, user: string, model = HAIKU): MessageParams => ({
  model,
  max_tokens: 100,
  ...(system !== undefined ? { system } : {}),
  messages: [{ role: 'user', content: user }]
})

async function plan(requests: Array<Partial<PromptRequest> & { params: MessageParams }>, cache: CacheMode, maxRequests = 100_000, maxBytes = 256_000_000): Promise<Plan> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cache-'))
  async function* sources(): AsyncGenerator<PromptRequest> {
    for (const [i, r] of requests.entries()) yield { key: `r${i}`, origin: { file: 'p.md' }, output: { kind: 'file', path: `out/${i}.md` }, ...r }
  }
  const problems: string[] = []
  const built = await buildPlan(sources(), {
    workspace: dir,
    spoolPath: path.join(dir, 'spool.jsonl'),
    tag: 'abcd',
    cache,
    limits: { maxRequests, maxBytes },
    problem: (p) => problems.push(p.message)
  })
  expect(problems).toEqual([])
  return built
}

async function body(p: Plan, chunk = 0): Promise<{ requests: Array<{ custom_id: string; params: MessageParams }> }> {
  const parts: Buffer[] = []
  for await (const part of cachedBody(p, p.chunks[chunk]!)) parts.push(part)
  return JSON.parse(Buffer.concat(parts).toString('utf8'))
}

describe('cache keys', () => {
  it('keys a system prompt by its content and model, never by its text alone', () => {
    const a = cacheKeys(req(LONG, 'one'))!
    expect(a.system!.bytes).toBe(Buffer.byteLength(LONG))
    expect(cacheKeys(req(LONG, 'two'))!.system!.key).toBe(a.system!.key)
    expect(cacheKeys(req(LONG, 'one', 'claude-sonnet-4-6'))!.system!.key).not.toBe(a.system!.key)
    expect(cacheKeys(req(LONG + '!', 'one'))!.system!.key).not.toBe(a.system!.key)
    expect(cacheKeys({ ...req(LONG, 'one'), tools: [{ name: 't', input_schema: { type: 'object' } }] })!.system!.key).not.toBe(a.system!.key)
  })

  it('leaves alone what cannot be cached or what the user marked', () => {
    expect(cacheKeys(req(SHORT, 'x'))).toBeUndefined()
    expect(cacheKeys(req(undefined, 'x'))).toBeUndefined()
    expect(cacheKeys({ ...req(LONG, 'x'), cache_control: { type: 'ephemeral' } })).toBeUndefined()
    expect(cacheKeys({ ...req(LONG, 'x'), system: [{ type: 'text', text: LONG }] })).toBeUndefined()
    // A model with a 512-token minimum caches what Haiku 4.5 cannot.
    expect(cacheKeys(req(SHORT, 'x', 'claude-sonnet-5-5'))?.system).toBeDefined()
  })

  it('finds a template lead before the first variable, and none when a message starts with one', () => {
    const t = (text: string) => ({ content: { text, line: 1, exactLines: true } })
    const taxonomy = 'billing, shipping, returns. '.repeat(20) // 560 bytes
    expect(fixedLead([t(`${taxonomy}\n\n{{text}}`)])).toEqual({ message: 0, chars: 562 })
    expect(fixedLead([t(taxonomy), t('Then {{x}}')])).toEqual({ message: 1, chars: 5 })
    expect(fixedLead([t('{{x}} first')])).toBeUndefined()
    expect(fixedLead([t(taxonomy)])).toBeUndefined()
    // Shorter than any model's minimum cacheable prompt: no breakpoint of its own.
    expect(fixedLead([t('Classify this ticket.\n\n{{text}}')])).toBeUndefined()
  })
})

describe('marks', () => {
  it('marks a prefix shared by two requests of a batch, not one alone nor one shared across batches', async () => {
    const p = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }, { params: req('Other. '.repeat(800), 'c') }], 'auto')
    expect([...chunkMarks(p, p.chunks[0]!)]).toEqual([MARK_SYSTEM, MARK_SYSTEM, 0])
    const split = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }], 'auto', 1)
    expect(split.chunks).toHaveLength(2)
    expect([...chunkMarks(split, split.chunks[0]!), ...chunkMarks(split, split.chunks[1]!)]).toEqual([0, 0])
  })

  it('uses the counted length when there is one: a prefix too short for the model is not marked', async () => {
    const p = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }], 'auto')
    p.caching!.tokens.set(p.requests[0]!.cache!.system!.key, 1_300)
    expect([...chunkMarks(p, p.chunks[0]!)]).toEqual([0, 0])
    expect(cacheGroups(p)).toEqual([])
  })

  it('marks a data template lead as its own text block, the rest after it', async () => {
    const lead = 'Classify the ticket by this taxonomy. '.repeat(120)
    const rows = ['Broken lid', 'Late again'].map((v) => ({ params: req(undefined, `${lead}${v}`), cacheLead: { message: 0, chars: lead.length } }))
    const p = await plan(rows, 'auto')
    expect([...chunkMarks(p, p.chunks[0]!)]).toEqual([MARK_LEAD, MARK_LEAD])
    const sent = await body(p)
    expect(sent.requests[1]!.params.messages[0]!.content).toEqual([
      { type: 'text', text: lead, cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: 'Late again' }
    ])
  })

  it('never splits a row whose rest would be an empty text block', () => {
    const params = req(undefined, 'Lead text')
    const keys = cacheKeys(params, { message: 0, chars: 9 })
    expect(keys).toBeUndefined()
    expect(markParams(params, { lead: { key: 1, bytes: 9, message: 0, chars: 9 } }, MARK_LEAD)).toEqual(params)
  })

  it('adds at most CACHE_MARK_BYTES to a request, and changes nothing it was given', () => {
    const params = req('S "quoted" ü', 'Lead \u2028 part|row value')
    const copy = structuredClone(params)
    const marked = markParams(params, { system: { key: 1, bytes: 1 }, lead: { key: 2, bytes: 1, message: 0, chars: 15 } }, MARK_SYSTEM | MARK_LEAD)
    expect(params).toEqual(copy)
    expect(Buffer.byteLength(JSON.stringify(marked)) - Buffer.byteLength(JSON.stringify(params))).toBeLessThanOrEqual(CACHE_MARK_BYTES)
  })
})

describe('what is sent', () => {
  it('sends a shared long system prompt as a block with a one-hour cache_control', async () => {
    const p = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }, { params: req(undefined, 'c') }], 'auto')
    const sent = await body(p)
    expect(sent.requests[0]!.params.system).toEqual([{ type: 'text', text: LONG, cache_control: { type: 'ephemeral', ttl: '1h' } }])
    expect(sent.requests[2]!.params).toEqual(req(undefined, 'c'))
  })

  it('cache: off sends exactly the spool, plain strings', async () => {
    const p = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }], 'off')
    expect([...chunkMarks(p, p.chunks[0]!)]).toEqual([0, 0])
    const parts: Buffer[] = []
    for await (const part of batchBody(p.spoolPath, p.requests)) parts.push(part)
    expect(JSON.stringify(await body(p))).toBe(Buffer.concat(parts).toString('utf8'))
    expect((await body(p)).requests[0]!.params.system).toBe(LONG)
  })

  it('keeps a batch with its cache blocks within the size limit splitting was given', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => ({ params: req(LONG, `row ${i}`) }))
    const plain = await plan(rows, 'off')
    const size = plain.requests.reduce((sum, r) => sum + r.bytes + 60, 0) - 0 // ~what six plain items take
    const p = await plan(rows, 'auto', 100_000, size)
    expect(p.chunks.length).toBeGreaterThan(1)
    expect(chunkMarks(p, p.chunks[0]!).every((m) => m === MARK_SYSTEM)).toBe(true)
    for (const c of p.chunks.keys()) expect(Buffer.byteLength(JSON.stringify(await body(p, c)))).toBeLessThanOrEqual(size)
  })

  it('ready-made requests are sent as they are', async () => {
    const p = await plan(
      [
        { params: req(LONG, 'a'), customId: 'mine-1' },
        { params: req(LONG, 'b'), customId: 'mine-2' }
      ],
      'auto'
    )
    expect((await body(p)).requests[0]!.params.system).toBe(LONG)
  })
})

describe('pay once', () => {
  it('gives the same fingerprints, submission digest and batches whether cache is auto or off', async () => {
    const rows = [{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }]
    const [auto, off] = [await plan(rows, 'auto'), await plan(rows, 'off')]
    expect(auto.requests.map((r) => r.fingerprint)).toEqual(off.requests.map((r) => r.fingerprint))
    expect(auto.tag).toBe(off.tag)
    // collect without a manifest plans again with its own inputs: the batches must come out the same.
    expect(auto.chunks).toEqual(off.chunks)
  })

  it('keeps a prompt fingerprint when its system prompt becomes shared', async () => {
    const alone = await plan([{ params: req(LONG, 'a') }], 'auto')
    const shared = await plan([{ params: req(LONG, 'a') }, { params: req(LONG, 'b') }], 'auto')
    expect([...chunkMarks(alone, alone.chunks[0]!)]).toEqual([0])
    expect([...chunkMarks(shared, shared.chunks[0]!)]).toEqual([MARK_SYSTEM, MARK_SYSTEM])
    expect(shared.requests[0]!.fingerprint).toBe(alone.requests[0]!.fingerprint)
  })
})
