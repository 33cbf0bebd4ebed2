/** action.yml is the contract with users: it must say exactly what the code reads and sets. */
import { describe, expect, it } from '@jest/globals'
import { readFile, readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { ROOT } from './support/run-action.js'

interface ActionYml {
  name: string
  description: string
  branding: { icon: string; color: string }
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

async function sources(): Promise<string> {
  const files = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'))
  return (await Promise.all(files.map((f) => readFile(path.join(ROOT, 'src', f), 'utf8')))).join('\n')
}

describe('action.yml', () => {
  it('runs the committed bundle on node24, with branding', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    expect(existsSync(path.join(ROOT, action.runs.main))).toBe(true)
    expect(action.branding.icon && action.branding.color).toBeTruthy()
  })

  it('declares and describes every input the code reads, and no other', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml
    // Inputs are read with core.get*Input, directly or through inputs.ts's relative() helper.
    const pattern = /(?:core\s*\.\s*get(?:Multiline|Boolean)?Input|relative)\('([a-z-]+)'\)/g
    const read = new Set([...(await sources()).matchAll(pattern)].map((m) => m[1]))
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort())
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, input.description?.length > 20]).toEqual([name, true])
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/)
    }
  })

  it('declares and describes every output the code sets, and no other', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml
    const outputsTs = await readFile(path.join(ROOT, 'src/report/outputs.ts'), 'utf8')
    const block = outputsTs.slice(outputsTs.indexOf('export interface Outputs'), outputsTs.indexOf('}', outputsTs.indexOf('export interface Outputs')))
    const declared = [...block.matchAll(/^\s+'?([a-z-]+)'?: /gm)].map((m) => m[1])
    const direct = [...(await sources()).matchAll(/core\.setOutput\('([a-z-]+)'/g)].map((m) => m[1])
    expect([...new Set([...declared, ...direct])].sort()).toEqual(Object.keys(action.outputs).sort())
    for (const output of Object.values(action.outputs)) expect(output.description.length).toBeGreaterThan(10)
  })
})
