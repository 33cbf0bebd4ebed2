/**
 * `npm run demo`: the built action (dist/index.js), run as a GitHub runner runs it, against the local
 * Batch API simulator, over example prompts of every kind. Offline, no API key. It leaves a workspace
 * in demo-output/ with the generated files for a person to read.
 */
import { cp, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { BatchSimulator, DEFAULT_API_KEY } from '../test/support/simulator.js'
import { ROOT as root, runAction } from '../test/support/run-action.js'

const out = path.join(root, 'demo-output')
const workspace = path.join(out, 'workspace')

await rm(out, { recursive: true, force: true })
await cp(path.join(root, 'examples'), workspace, { recursive: true })

const simulator = await BatchSimulator.start({ processingMs: 4_000 })
console.log(`Batch API simulator at ${simulator.url}; batches take 4 s to end.\n`)
try {
  const run = await runAction({
    workspace,
    runnerTemp: path.join(out, 'runner-temp'),
    echo: true,
    inputs: {
      'anthropic-api-key': DEFAULT_API_KEY,
      'anthropic-base-url': simulator.url,
      prompts: 'prompts/**/*',
      data: 'data/tickets.csv',
      template: 'templates/classify-ticket.md',
      requests: 'requests/synthetic.jsonl',
      model: 'claude-haiku-4-5',
      'max-tokens': '1024',
      'output-dir': 'generated',
      'wait-minutes': '2',
      'poll-interval-seconds': '2',
      'max-cost': '1',
      'fail-on-error': 'true'
    }
  })

  console.log('\n──────── step outputs ────────')
  for (const [name, value] of Object.entries(run.outputs)) console.log(`${name}: ${value}`)
  const files = JSON.parse(run.outputs['output-files'] ?? '[]') as string[]
  console.log('\n──────── what to read ────────')
  for (const file of files) console.log(`  ${path.relative(root, path.join(workspace, file))}`)
  console.log(`  ${path.relative(root, run.outputs['results-file'] ?? '')}  (raw results)`)
  console.log(`  demo-output/summary.md  (the job summary, as HTML-flavoured Markdown)`)
  await cp(path.join(run.runnerTemp, 'summary.md'), path.join(out, 'summary.md'))
  const first = files.find((f) => f.endsWith('.md'))
  if (first) console.log(`\n──────── ${first} ────────\n${await readFile(path.join(workspace, first), 'utf8')}`)
  process.exitCode = run.exitCode
  console.log(run.exitCode === 0 ? 'The demo ran to the end.' : `The action failed (exit ${run.exitCode}).`)
} finally {
  await simulator.close()
}
