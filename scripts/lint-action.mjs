// Validates action.yml against GitHub's own action metadata schema (@actions/languageservice,
// the engine of the GitHub Actions VS Code extension). Run: npm run lint:action
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { validate } from '@actions/languageservice'
import { TextDocument } from 'vscode-languageserver-textdocument'

const file = path.resolve(process.argv[2] ?? 'action.yml')
const document = TextDocument.create(`file://${file}`, 'yaml', 1, readFileSync(file, 'utf8'))
const diagnostics = await validate(document)
for (const d of diagnostics) {
  // Severity 1 (or none) is an error, 2 a warning.
  const level = d.severity === 2 ? 'warning' : 'error'
  console.log(`${path.relative(process.cwd(), file)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${level}: ${d.message}`)
}
const errors = diagnostics.filter((d) => d.severity !== 2).length
console.log(errors ? `${errors} error(s) in ${path.basename(file)}` : `✓ ${path.basename(file)} is valid action metadata`)
process.exitCode = errors ? 1 : 0
