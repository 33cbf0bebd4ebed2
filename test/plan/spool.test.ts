import { describe, expect, it } from '@jest/globals'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { batchBody, itemBytes, readParams, SpoolWriter, BODY_ENVELOPE_BYTES } from '../../src/plan/spool.js'

async function spoolOf(params: unknown[]) {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'spool-')), 'requests.jsonl')
  const writer = new SpoolWriter(file)
  const at = []
  for (const p of params) at.push(await writer.append(p))
  await writer.close()
  return { file, at }
}

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = []
  for await (const part of body) parts.push(part)
  return Buffer.concat(parts).toString('utf8')
}

describe('spool', () => {
  const params = [
    { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'line\nbreak and "quotes"' }] },
    { model: 'm', max_tokens: 2, messages: [{ role: 'user', content: 'ünïcødé \u2028 separator' }] },
    { model: 'm', max_tokens: 3, messages: [{ role: 'user', content: 'x'.repeat(3_000_000) }] }
  ]

  it('streams a create body that is exactly the requests, for any consecutive range', async () => {
    const { file, at } = await spoolOf(params)
    const items = at.map((a, i) => ({ ...a, customId: `id-${i}` }))
    const whole = JSON.parse(await text(batchBody(file, items)))
    expect(whole).toEqual({ requests: params.map((p, i) => ({ custom_id: `id-${i}`, params: p })) })
    const tail = JSON.parse(await text(batchBody(file, items.slice(1))))
    expect(tail.requests.map((r: { custom_id: string }) => r.custom_id)).toEqual(['id-1', 'id-2'])
  })

  it('predicts the body size that splitting relies on', async () => {
    const { file, at } = await spoolOf(params)
    const items = at.map((a, i) => ({ ...a, customId: `id-${i}` }))
    const size = Buffer.byteLength(await text(batchBody(file, items)))
    const predicted = BODY_ENVELOPE_BYTES + items.reduce((sum, i) => sum + itemBytes(i.customId, i.bytes), 0) - 1
    expect(size).toBe(predicted)
  })

  it('cuts items right when a read chunk ends exactly between an item and its newline', async () => {
    // Items of 61,680 bytes plus a newline: the 17th ends on the last byte of the first 1 MiB read
    // (17 × 61,681 = 1,048,577), so its newline opens the second.
    const padded = (i: number) => {
      const base = { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: '' }] }
      const overhead = JSON.stringify(base).length
      return { ...base, messages: [{ role: 'user', content: String(i % 10).repeat(61_680 - overhead) }] }
    }
    const many = Array.from({ length: 20 }, (_, i) => padded(i))
    const { file, at } = await spoolOf(many)
    expect(at[0]!.bytes).toBe(61_680)
    const items = at.map((a, i) => ({ ...a, customId: `id-${i}` }))
    const body = JSON.parse(await text(batchBody(file, items)))
    expect(body.requests.map((r: { params: unknown }) => r.params)).toEqual(many)
  })

  it('reads single requests back for token-count samples', async () => {
    const { file, at } = await spoolOf(params)
    expect(await readParams(file, [at[1]!, at[0]!])).toEqual([params[1], params[0]])
  })
})
