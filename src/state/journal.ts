import path from 'node:path'
import { mkdir, writeFile } from 'node:fs/promises'
import type { Anthropic } from '@anthropic-ai/sdk'
import { total } from '../anthropic/counts.js'
import { withRetry } from '../anthropic/retry.js'
import { artifactServiceAvailable, saveLocalManifest, uploadArtifact } from './artifacts.js'
import { MANIFEST_FILE, type BatchRef, type Manifest } from './manifest.js'

/**
 * The submission journal: the manifest written before the first create and again after the
 * creates, so that no batch is ever paid for without a record that a later collect can find.
 *
 * Where the record is kept: an artifact of this run, or the local folder where there is no artifact
 * service. Returns where it went. Artifacts cannot be replaced within a run, so the journal and the
 * manifest are two artifacts (names in manifest.ts).
 */
export async function saveRecord(name: string, manifest: Manifest, options: { temp: string; retentionDays: number }): Promise<{ artifactId?: number; file?: string }> {
  const dir = path.join(options.temp, name)
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, MANIFEST_FILE)
  await writeFile(file, JSON.stringify(manifest))
  if (!artifactServiceAvailable()) return { file: await saveLocalManifest(name, file) }
  return { artifactId: await uploadArtifact(name, [file], dir, options.retentionDays) }
}

// A batch made by this submission is created after the journal's `startedAt` (less a minute for
// clock skew) and before the creates gave up: at most a few attempts of ten minutes each per chunk.
const SKEW_MS = 60_000
const CREATE_WINDOW_MS_PER_CHUNK = 45 * 60_000

/**
 * Finds, for the chunks of a submission that have no proven batch, the batches that may carry them:
 * listed by the API in the submission's time window, of exactly the chunk's size, and not already
 * recorded. They are returned unverified: a batch is this submission's only once its result ids
 * prove it (results/collect.ts), which is also what tells two same-sized chunks apart.
 * One paginated list call, newest first, stopped as soon as the listing is older than the window.
 */
export async function reconcile(client: Anthropic, manifest: Manifest, options: { deadline?: number } = {}): Promise<BatchRef[]> {
  const open = manifest.chunks.map((_, i) => i).filter((i) => !manifest.batches.some((b) => b.chunk === i && b.verified))
  if (!open.length) return []
  const from = Date.parse(manifest.startedAt) - SKEW_MS
  const to = Date.parse(manifest.startedAt) + CREATE_WINDOW_MS_PER_CHUNK * manifest.chunks.length
  const known = new Set(manifest.batches.map((b) => b.id))
  const found: BatchRef[] = []
  let after: string | undefined
  for (;;) {
    const page = await withRetry('list batches', (o) => client.messages.batches.list({ limit: 100, ...(after ? { after_id: after } : {}) }, { ...o, maxRetries: 0 }), options)
    for (const batch of page.data) {
      const created = Date.parse(batch.created_at)
      if (created < from) return found
      if (created > to || known.has(batch.id)) continue
      const chunk = open.find((i) => manifest.chunks[i] === total(batch))
      if (chunk !== undefined) found.push({ id: batch.id, chunk, createdAt: batch.created_at, expiresAt: batch.expires_at, verified: false })
    }
    if (!page.has_more || !page.last_id) return found
    after = page.last_id
  }
}
