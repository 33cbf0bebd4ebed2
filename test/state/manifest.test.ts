import { describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Plan } from '../../src/plan/plan.js'
import { batchRef, buildManifest, parseArtifactName, planFromManifest } from '../../src/state/manifest.js'
import type { MessageBatch } from '../../src/anthropic/client.js'

const plan: Plan = {
  tag: 'abcd2345',
  spoolPath: '',
  chunks: [
    { start: 0, end: 2, bytes: 0 },
    { start: 2, end: 3, bytes: 0 }
  ],
  requests: [
    {
      customId: 'abcd2345_a',
      model: 'claude-haiku-4-5',
      maxTokens: 100,
      origin: { file: 'prompts/a.md', line: 4 },
      output: { kind: 'file', path: 'generated/a.md' },
      offset: 0,
      bytes: 0
    },
    {
      customId: 'abcd2345_b',
      model: 'claude-haiku-4-5',
      maxTokens: 100,
      origin: { file: 'prompts/b.md', line: 1 },
      output: { kind: 'file', path: 'site/b.md' },
      offset: 0,
      bytes: 0
    },
    {
      customId: 'abcd2345_t-1',
      model: 'claude-sonnet-4-6',
      maxTokens: 20,
      origin: { file: 'data/t.csv', line: 2, row: 1 },
      output: { kind: 'data-row', path: 'generated/t.csv', source: 'data/t.csv', format: 'csv', index: 0 },
      offset: 0,
      bytes: 0
    }
  ],
  dataOutputs: [{ path: 'generated/t.csv', source: 'data/t.csv', format: 'csv', rows: 1 }]
}
const batch = (id: string, chunk = 0) => batchRef({ id, created_at: '2026-11-24T00:00:00Z', expires_at: '2026-11-25T00:00:00Z' } as MessageBatch, chunk, true)
const env = { GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_SHA: 'abc123', GITHUB_EVENT_NAME: 'push', GITHUB_SERVER_URL: 'https://github.com' }
const ctx = { outputDir: 'generated', startedAt: '2026-11-24T00:00:00Z', env }

describe('manifest', () => {
  it('round-trips a plan: every custom_id with its source, output, model and max_tokens, and the run', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'manifest-'))
    const manifest = buildManifest(plan, [batch('msgbatch_1'), batch('msgbatch_2', 1)], ctx)
    expect(manifest).toMatchObject({ repository: 'o/r', commit: 'abc123', run: { id: 42, url: 'https://github.com/o/r/actions/runs/42' } })
    expect(manifest.chunks).toEqual([2, 1])
    expect(manifest.complete).toBe(true)
    expect(buildManifest(plan, [batch('msgbatch_1')], ctx).complete).toBe(false)
    const back = await planFromManifest(JSON.parse(JSON.stringify(manifest)), workspace)
    expect(back.plan.requests).toEqual(plan.requests)
    expect(back.plan.chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 2],
      [2, 3]
    ])
  })

  it('moves outputs under the old output-dir to a new one, leaving explicit paths and data sources alone', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'manifest-'))
    const manifest = JSON.parse(JSON.stringify(buildManifest(plan, [batch('m1'), batch('m2', 1)], ctx)))
    const { plan: moved } = await planFromManifest(manifest, workspace, 'out')
    expect(moved.requests.map((r) => r.output?.path)).toEqual(['out/a.md', 'site/b.md', 'out/t.csv'])
    expect(moved.dataOutputs[0]).toMatchObject({ path: 'out/t.csv', source: 'data/t.csv' })
  })

  it('treats a manifest as untrusted input: paths leaving the workspace, into .git or through links are refused', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'manifest-'))
    const outside = await mkdtemp(path.join(tmpdir(), 'outside-'))
    await mkdir(path.join(workspace, 'links'))
    await symlink(outside, path.join(workspace, 'links/away'))
    const good = JSON.parse(JSON.stringify(buildManifest(plan, [batch('m1'), batch('m2', 1)], ctx)))
    for (const bad of ['../escape.md', '/etc/passwd', '.git/hooks/pre-commit', 'links/away/x.md']) {
      const m = structuredClone(good)
      m.requests[0][6] = bad
      await expect(planFromManifest(m, workspace)).rejects.toThrow(/outside the workspace|inside \.git/)
    }
    await expect(planFromManifest({ ...good, version: 1 }, workspace)).rejects.toThrow(/not a version 2 manifest/)
    await expect(planFromManifest({ ...good, tag: 'x' }, workspace)).rejects.toThrow(/tag/)
    await expect(planFromManifest({ ...good, requests: good.requests.map((r: unknown[]) => ['other123_a', ...r.slice(1)]) }, workspace)).rejects.toThrow(/submission tag/)
    await expect(planFromManifest({ ...good, batches: [{ id: 'm1\n::warning::x', chunk: 0 }] }, workspace)).rejects.toThrow(/batch entry/)
    await expect(planFromManifest({ ...good, requests: [['a']] }, workspace)).rejects.toThrow(/malformed/)
    await expect(planFromManifest({ ...good, chunks: [1, 1] }, workspace)).rejects.toThrow(/do not add up/)
  })

  it('names artifacts by tag, and reads back only names it made', () => {
    expect(parseArtifactName('claude-batch-journal-abcd2345')).toEqual({ kind: 'journal', tag: 'abcd2345', batchId: undefined })
    expect(parseArtifactName('claude-batch-manifest-abcd2345-msgbatch_01')).toEqual({ kind: 'manifest', tag: 'abcd2345', batchId: 'msgbatch_01' })
    expect(parseArtifactName('claude-batch-results-abcd2345')).toMatchObject({ kind: 'results', tag: 'abcd2345' })
    expect(parseArtifactName('claude-batch-manifest-abcd2345')).toBeUndefined()
    expect(parseArtifactName('claude-batch-manifest-msgbatch_01')).toBeUndefined()
    expect(parseArtifactName('something-else')).toBeUndefined()
  })
})

describe('manifest: pay once', () => {
  const FP = '0123456789abcdef0123456789abcdef'
  const withFingerprints: Plan = { ...plan, requests: plan.requests.map((r) => ({ ...r, fingerprint: FP })), dataOutputs: [{ ...plan.dataOutputs[0]!, kept: [[3, FP]] }] }

  it("carries each request's fingerprint, the kept data rows and what prune removed; reads older 7-column rows", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'manifest-'))
    const manifest = buildManifest({ ...withFingerprints, pruned: { keys: ['generated/old.md'], files: ['generated/old.md'] } }, [batch('msgbatch_1'), batch('msgbatch_2', 1)], ctx)
    const back = await planFromManifest(JSON.parse(JSON.stringify(manifest)), workspace)
    expect(back.plan.requests.map((r) => r.fingerprint)).toEqual([FP, FP, FP])
    expect(back.plan.dataOutputs[0]!.kept).toEqual([[3, FP]])
    expect(back.plan.pruned).toEqual({ keys: ['generated/old.md'], files: ['generated/old.md'] })
    const old = JSON.parse(JSON.stringify(manifest))
    old.requests = old.requests.map((r: unknown[]) => r.slice(0, 7))
    expect((await planFromManifest(old, workspace)).plan.requests.every((r) => r.fingerprint === undefined)).toBe(true)
  })

  it('rejects a malformed fingerprint, and a pruned file that no output could be', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'manifest-'))
    const manifest = JSON.parse(JSON.stringify(buildManifest(withFingerprints, [batch('msgbatch_1'), batch('msgbatch_2', 1)], ctx)))
    await expect(planFromManifest({ ...manifest, requests: [[...manifest.requests[0].slice(0, 7), 'x'], ...manifest.requests.slice(1)] }, workspace)).rejects.toThrow(/fingerprint/)
    await expect(planFromManifest({ ...manifest, pruned: { keys: [], files: ['../outside.md'] } }, workspace)).rejects.toThrow()
    await expect(planFromManifest({ ...manifest, pruned: { keys: [], files: ['prompts/a.md'] } }, workspace)).rejects.toThrow()
  })
})
