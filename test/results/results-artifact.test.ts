/**
 * The results artifact is uploaded from where the outputs were written, with the layout users
 * download: the real artifact client, uploading to the GitHub fake in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { GitHubFake } from '../support/github-fake.js'
import { makeWorkspace } from '../support/run-action.js'
import { uploadResults } from '../../src/results/results-artifact.js'
import type { ArtifactUploader } from '../../src/state/artifacts.js'

let github: GitHubFake
const saved = { ...process.env }

beforeAll(async () => {
  github = await GitHubFake.start()
})
afterAll(async () => {
  process.env = saved
  await github.close()
})

const OUTPUTS = {
  'generated/a.md': 'Text A\n',
  'generated/deep/b.md': 'Text B\n',
  'claude-batch.lock.json': '{}\n'
}

async function setUp() {
  const workspace = await makeWorkspace({ ...OUTPUTS, '.env': 'SECRET=1\n', 'prompts/a.md': 'Say A.\n' })
  const temp = await mkdtemp(path.join(tmpdir(), 'cba-results-'))
  const resultsFile = path.join(temp, 'tag.jsonl')
  await writeFile(resultsFile, '{"custom_id":"x"}\n')
  return { workspace, temp, resultsFile, files: Object.keys(OUTPUTS) }
}

describe('uploadResults', () => {
  it('uploads results.jsonl, summary.md and files/<path> of the listed outputs only, and leaves no way into the workspace', async () => {
    Object.assign(process.env, github.envFor(github.addRun()))
    const { workspace, temp, resultsFile, files } = await setUp()
    const folder = path.join(temp, 'claude-batch-results-tag')
    const id = await uploadResults({ name: 'claude-batch-results-tag', resultsFile, summary: '### Summary\n', workspace, files, retentionDays: 1 }, folder)

    const artifact = github.artifacts().find((a) => a.name === 'claude-batch-results-tag')!
    expect(artifact.id).toBe(id)
    const kept = await artifact.files()
    expect(Object.keys(kept).sort()).toEqual(['files/claude-batch.lock.json', 'files/generated/a.md', 'files/generated/deep/b.md', 'results.jsonl', 'summary.md'])
    for (const [file, content] of Object.entries(OUTPUTS)) expect(String(kept[`files/${file}`])).toBe(content)
    expect(String(kept['results.jsonl'])).toBe('{"custom_id":"x"}\n')
    expect(String(kept['summary.md'])).toBe('### Summary\n')

    // Nothing was copied, and once the temp folder is removed the workspace is whole.
    expect((await readdir(folder)).sort()).toEqual(['results.jsonl', 'summary.md'])
    await rm(temp, { recursive: true, force: true })
    expect(await readFile(path.join(workspace, 'generated/a.md'), 'utf8')).toBe('Text A\n')
    expect(await readFile(path.join(workspace, '.env'), 'utf8')).toBe('SECRET=1\n')
  })

  it('removes its link to the workspace when the upload fails', async () => {
    const { workspace, temp, resultsFile, files } = await setUp()
    const folder = path.join(temp, 'claude-batch-results-tag')
    const client: ArtifactUploader = {
      uploadArtifact: async () => {
        throw Object.assign(new Error('quota'), { name: 'UsageError' })
      },
      getArtifact: async () => {
        throw Object.assign(new Error('none'), { name: 'ArtifactNotFoundError' })
      }
    }
    await expect(uploadResults({ name: 'n', resultsFile, summary: '', workspace, files, retentionDays: 1 }, folder, { client })).rejects.toThrow('quota')
    expect((await readdir(folder)).sort()).toEqual(['results.jsonl', 'summary.md'])
    await rm(temp, { recursive: true, force: true })
    expect(await readFile(path.join(workspace, 'generated/deep/b.md'), 'utf8')).toBe('Text B\n')
  })
})
