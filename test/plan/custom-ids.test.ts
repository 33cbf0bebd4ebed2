import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { assignCustomIds, CUSTOM_ID_PATTERN, newTag, tagOf, TAG_LENGTH } from '../../src/plan/custom-ids.js'

const T = 'abcd2345'
const untag = (ids: string[]) => ids.map((id) => id.slice(TAG_LENGTH + 1))

describe('assignCustomIds', () => {
  it('keeps readable keys readable, after the submission tag', () => {
    expect(assignCustomIds(['products/widget', 'tickets-17', 'translations/fr/home'], T)).toEqual([
      'abcd2345_products-widget',
      'abcd2345_tickets-17',
      'abcd2345_translations-fr-home'
    ])
  })

  it('gives every id the API pattern, even from unicode, spaces and dots', () => {
    const ids = assignCustomIds(['Café menu/Crème brûlée.v2', '  ', 'a//b', '日本語'], T)
    for (const id of ids) expect(id).toMatch(CUSTOM_ID_PATTERN)
    expect(ids[0]).toBe('abcd2345_Cafe-menu-Creme-brulee-v2')
  })

  it('is the same on every run with the same tag, and in any order', () => {
    const keys = ['a.b', 'a-b', 'x'.repeat(100), 'c']
    const once = assignCustomIds(keys, T)
    const reversed = assignCustomIds([...keys].reverse(), T).reverse()
    expect(reversed).toEqual(once)
    expect(assignCustomIds(keys, T)).toEqual(once)
  })

  it('separates keys that collide after sanitising, and shortens long ones, with a hash', () => {
    const [dot, dash, long] = untag(assignCustomIds(['a.b', 'a-b', `${'x'.repeat(100)}/file`], T))
    expect(dot).not.toBe(dash)
    expect(dot).toMatch(/^a-b-[0-9a-f]{8}$/)
    expect(long!.length).toBeLessThanOrEqual(64 - TAG_LENGTH - 1)
    expect(long).toMatch(/^x+-[0-9a-f]{8}$/)
  })

  it('keeps a user-chosen id after the tag, and steers derived ids clear of it', () => {
    const [fixed, derived] = assignCustomIds([{ fixed: 'report-1' }, 'report/1'], T)
    expect(fixed).toBe('abcd2345_report-1')
    expect(derived).not.toBe(fixed)
    expect(derived).toMatch(CUSTOM_ID_PATTERN)
  })

  it('refuses two identical user ids rather than sending a batch the API rejects', () => {
    expect(() => assignCustomIds([{ fixed: 'a' }, { fixed: 'a' }], T)).toThrow(/produced twice/)
  })

  it('refuses a malformed tag', () => {
    expect(() => assignCustomIds(['a'], 'UPPER')).toThrow(/not a submission tag/)
  })
})

describe('the custom_id scheme (properties)', () => {
  const key = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/).map((fixed) => ({ fixed }))
  )

  it('every id is valid for the API, carries its tag, and is unique', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 40, selector: (k) => (typeof k === 'string' ? `s:${k}` : `f:${k.fixed}`) }), (keys) => {
        const tag = newTag()
        let ids: string[]
        try {
          ids = assignCustomIds(keys, tag)
        } catch (error) {
          // Only two user ids that are the same after shortening may be refused, never derived ones.
          expect((error as Error).message).toMatch(/produced twice/)
          return
        }
        for (const id of ids) {
          expect(id).toMatch(CUSTOM_ID_PATTERN)
          expect(tagOf(id)).toBe(tag)
        }
        expect(new Set(ids).size).toBe(ids.length)
      }),
      { numRuns: 200 }
    )
  })

  it('two submissions never share an id: their tags differ', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 10 }), (keys) => {
        const a = assignCustomIds([...new Set(keys)], newTag())
        const b = assignCustomIds([...new Set(keys)], newTag())
        if (tagOf(a[0]!) !== tagOf(b[0]!)) for (const id of a) expect(b).not.toContain(id)
      }),
      { numRuns: 100 }
    )
  })
})
