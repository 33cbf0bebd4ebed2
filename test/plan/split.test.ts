import { describe, expect, it } from '@jest/globals'
import { API_LIMITS, split, type PlannedRequest } from '../../src/plan/plan.js'
import { itemBytes, BODY_ENVELOPE_BYTES } from '../../src/plan/spool.js'
import type { Problem } from '../../src/sources/types.js'

const request = (i: number, bytes = 100): PlannedRequest => ({
  customId: `r-${i}`,
  origin: { file: 'prompts/p.md', line: 1 },
  model: 'claude-haiku-4-5',
  maxTokens: 10,
  offset: i * (bytes + 1),
  bytes
})

describe('split', () => {
  it('keeps up to 100,000 requests in one batch and starts another past that', () => {
    const requests = Array.from({ length: 100_001 }, (_, i) => request(i))
    const chunks = split(requests, API_LIMITS, () => {})
    expect(chunks.map((c) => c.end - c.start)).toEqual([100_000, 1])
    expect(chunks[1]!.start).toBe(100_000)
  })

  it('splits by size so that no body exceeds the limit', () => {
    const requests = Array.from({ length: 10 }, (_, i) => request(i, 1000))
    const maxBytes = BODY_ENVELOPE_BYTES + 3 * itemBytes('r-0', 1000)
    const chunks = split(requests, { maxRequests: 100, maxBytes }, () => {})
    expect(chunks.map((c) => c.end - c.start)).toEqual([3, 3, 3, 1])
    for (const c of chunks) expect(c.bytes).toBeLessThanOrEqual(maxBytes)
  })

  it('reports a request that cannot fit in any batch, at its file and line', () => {
    const problems: Problem[] = []
    const big = { ...request(1, 5000), origin: { file: 'prompts/huge.md', line: 4 } }
    const chunks = split([request(0), big], { maxRequests: 100, maxBytes: 1000 }, (p) => problems.push(p))
    expect(chunks).toHaveLength(1)
    expect(problems).toEqual([expect.objectContaining({ file: 'prompts/huge.md', line: 4, message: expect.stringMatching(/cannot be sent even on its own/) })])
  })
})
