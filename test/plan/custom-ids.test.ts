import { describe, expect, it } from '@jest/globals'
import { assignCustomIds, CUSTOM_ID_PATTERN } from '../../src/plan/custom-ids.js'

describe('assignCustomIds', () => {
  it('keeps readable keys readable', () => {
    expect(assignCustomIds(['products/widget', 'tickets-17', 'translations/fr/home'])).toEqual([
      'products-widget',
      'tickets-17',
      'translations-fr-home'
    ])
  })

  it('gives every id the API pattern, even from unicode, spaces and dots', () => {
    const ids = assignCustomIds(['Café menu/Crème brûlée.v2', '  ', 'a//b', '日本語'])
    for (const id of ids) expect(id).toMatch(CUSTOM_ID_PATTERN)
    expect(ids[0]).toBe('Cafe-menu-Creme-brulee-v2')
  })

  it('is the same on every run and in any order', () => {
    const keys = ['a.b', 'a-b', 'x'.repeat(100), 'c']
    const once = assignCustomIds(keys)
    const reversed = assignCustomIds([...keys].reverse()).reverse()
    expect(reversed).toEqual(once)
    expect(assignCustomIds(keys)).toEqual(once)
  })

  it('separates keys that collide after sanitising, and shortens long ones, with a hash', () => {
    const [dot, dash, long] = assignCustomIds(['a.b', 'a-b', `${'x'.repeat(100)}/file`])
    expect(dot).not.toBe(dash)
    expect(dot).toMatch(/^a-b-[0-9a-f]{8}$/)
    expect(long!.length).toBeLessThanOrEqual(64)
    expect(long).toMatch(/^x+-[0-9a-f]{8}$/)
  })

  it('never changes a user-chosen id, and steers derived ids clear of it', () => {
    const [fixed, derived] = assignCustomIds([{ fixed: 'report-1' }, 'report/1'])
    expect(fixed).toBe('report-1')
    expect(derived).not.toBe('report-1')
    expect(derived).toMatch(CUSTOM_ID_PATTERN)
  })

  it('refuses two identical user ids rather than sending a batch the API rejects', () => {
    expect(() => assignCustomIds([{ fixed: 'a' }, { fixed: 'a' }])).toThrow(/produced twice/)
  })
})
