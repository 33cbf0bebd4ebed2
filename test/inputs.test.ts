import { afterEach, describe, expect, it } from '@jest/globals'
import { MAX_RETENTION_DAYS, readInputs } from '../src/inputs.js'

// @actions/core reads inputs from INPUT_* variables, as the runner sets them.
const set: string[] = []
function withInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs)) {
    const key = `INPUT_${name.toUpperCase()}`
    process.env[key] = value
    set.push(key)
  }
}
afterEach(() => {
  for (const key of set.splice(0)) delete process.env[key]
})

const read = () => readInputs({ GITHUB_WORKSPACE: process.cwd() })

describe('retention-days', () => {
  it('accepts 1 to 90 days', async () => {
    withInputs({ 'retention-days': String(MAX_RETENTION_DAYS) })
    const { inputs, problems } = await read()
    expect(problems).toEqual([])
    expect(inputs.retentionDays).toBe(90)
  })

  it.each(['1000', '91', '0', '-3', '2.5', 'week'])('refuses %s: GitHub keeps artifacts 1 to 90 days', async (value) => {
    withInputs({ 'retention-days': value })
    const { inputs, problems } = await read()
    expect(problems).toEqual([{ message: `Input retention-days: "${value}" is not a whole number from 1 to 90.` }])
    expect(inputs.retentionDays).toBeGreaterThanOrEqual(1)
    expect(inputs.retentionDays).toBeLessThanOrEqual(90)
  })
})

describe('max-cost', () => {
  it('reads dollars, with or without a $', async () => {
    withInputs({ 'max-cost': '$2.50' })
    expect((await read()).inputs.maxCost).toBe(2.5)
  })

  it.each(['abc', '$', '-1'])('gives exactly one problem for %j and sets no budget to check against', async (value) => {
    withInputs({ 'max-cost': value })
    const { inputs, problems } = await read()
    expect(problems).toHaveLength(1)
    expect(problems[0]!.message).toMatch(/^Input max-cost: .* is not a number of 0 or more\.$/)
    // Undefined, not 0: a budget of $0.00 would add a second error, "exceeds max-cost ($0.00)".
    expect(inputs.maxCost).toBeUndefined()
  })
})

describe('values echoed in problems', () => {
  it('are escaped, so a line break cannot reach the log', async () => {
    withInputs({ 'wait-minutes': 'x\n::warning::INJECTED' })
    const { problems } = await read()
    expect(problems.map((p) => p.message)).toEqual(['Input wait-minutes: "x\\n::warning::INJECTED" is not a number of 0 or more.'])
  })
})

describe('cache', () => {
  it('is auto by default and takes off, in any case', async () => {
    expect((await read()).inputs.cache).toBe('auto')
    withInputs({ cache: 'OFF' })
    expect((await read()).inputs.cache).toBe('off')
  })

  it('refuses anything else, saying what it takes', async () => {
    withInputs({ cache: 'yes' })
    expect((await read()).problems).toEqual([{ message: 'Input cache: "yes" is not auto or off.' }])
  })
})
