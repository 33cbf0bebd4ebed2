import * as core from '@actions/core'
import type { Inputs } from '../inputs.js'
import type { Problem } from '../sources/types.js'
import { describeError } from '../anthropic/client.js'
import { downloadManifest } from '../state/artifacts.js'
import { planFromManifest } from '../state/manifest.js'
import { reconcile } from '../state/journal.js'
import { withRetry } from '../anthropic/retry.js'
import { total } from '../anthropic/counts.js'
import { escape } from '../report/summary.js'
import { table } from '../report/html.js'
import { writeJobSummary } from '../report/summary-file.js'
import { discover, failWith, requireClient, RESULTS_KEPT_MS, WARN_BEFORE_MS } from './common.js'
import { info } from '../report/log.js'
import { warn } from '../report/annotations.js'

/** status: a table, in the log and the job summary, of every pending batch with its counts and expiry. */
export async function status(inputs: Inputs, problems: Problem[]): Promise<void> {
  const client = requireClient(inputs, problems)
  if (!client) return failWith(problems)
  const { candidates, find } = await discover(inputs, problems)
  if (problems.length) return failWith(problems)

  const rows: string[][] = []
  for (const candidate of candidates) {
    if (candidate.untrusted) {
      rows.push([candidate.batchId ?? candidate.name, 'ignored', '', '', '', candidate.untrusted])
      continue
    }
    try {
      const { manifest } = await planFromManifest(await downloadManifest(candidate, find), inputs.workspace)
      // An unfinished record's batches are found in the API's list (unproved until collect reads them).
      const refs = [...manifest.batches, ...(await reconcile(client, manifest))]
      if (!refs.length) rows.push([candidate.name, 'not sent', '', '', '', 'its journal records no batch and the batch list shows none it may have made'])
      for (const { id, verified } of refs) {
        const b = await withRetry('read a batch', (o) => client.messages.batches.retrieve(id, {}, { ...o, maxRetries: 0 }))
        const c = b.request_counts
        const all = total(b)
        const kept = new Date(Date.parse(b.created_at) + RESULTS_KEPT_MS).toISOString()
        if (b.processing_status === 'ended' && Date.parse(kept) - Date.now() < WARN_BEFORE_MS) {
          warn(`The results of ${id} will be deleted by the API on ${kept.slice(0, 10)}: run collect before then.`, { title: 'Batch results expire soon' })
        }
        rows.push([
          id,
          b.processing_status,
          `${all - c.processing} of ${all} done (${c.succeeded} succeeded, ${c.errored} errored, ${c.canceled} canceled, ${c.expired} expired)`,
          b.processing_status === 'ended' ? '' : b.expires_at,
          kept,
          (manifest.run.url || `run ${manifest.run.id}`) + (verified ? '' : ' (found after a lost create answer: unproved until collect reads its results)')
        ])
      }
    } catch (error) {
      rows.push([candidate.batchId ?? candidate.name, 'unknown', '', '', '', describeError(error)])
    }
  }

  const head = ['Batch', 'Status', 'Requests', 'Expires', 'Results kept until', 'Submitted by']
  if (!rows.length) info('No pending batches.')
  for (const r of rows) info(r.filter(Boolean).join(' · '))
  await writeJobSummary(
    core.summary
      .addHeading('Claude batch: status', 2)
      .addRaw(`<p>${rows.length} pending batch(es).</p>`, true)
      .addRaw(
        table(
          head,
          rows.map((r) => r.map((cell, i) => (i === 0 ? `<code>${escape(cell)}</code>` : escape(cell)))),
          `${rows.length} batches`
        ),
        true
      )
  )
  core.setOutput('batch-ids', JSON.stringify(rows.map((r) => r[0])))
}
