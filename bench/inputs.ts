/**
 * The benchmark's own inputs, generated in a temp directory: N prompt files (Markdown with front matter, in
 * folders of 1,000 as a large repository keeps them), and a CSV of N rows with a template. Same seed-free content
 * every time, so runs are comparable.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { mapLimit } from './pool.js'

export const PROMPTS_DIR = 'prompts'
export const DATA_FILE = 'data/rows.csv'
export const TEMPLATE_FILE = 'templates/classify.md'
export const TEMPLATE = '---\nmax_tokens: 50\n---\nClassify this support ticket as billing, shipping or other.\nSubject: {{subject}}\n{{body}}\n'

const SUBJECTS = ['Broken lid', 'Late parcel', 'Charged twice', 'Wrong colour', 'Missing manual', 'Cannot log in']

/** The relative path of prompt file i (of any count): prompts/d0042/p0042123.md. */
export function promptPath(i: number): string {
  return `${PROMPTS_DIR}/d${String(Math.floor(i / 1000)).padStart(4, '0')}/p${String(i).padStart(7, '0')}.md`
}

export function promptText(i: number): string {
  return `---\nmax_tokens: ${100 + (i % 7) * 50}\n---\nDescribe product number ${i} (a ${SUBJECTS[i % SUBJECTS.length]!.toLowerCase()} kit) in two sentences for a catalogue.\n`
}

export async function makePromptWorkspace(count: number): Promise<string> {
  const workspace = await mkdtemp(path.join(tmpdir(), `cba-bench-prompts-${count}-`))
  const dirs = Math.ceil(count / 1000)
  await mapLimit(
    Array.from({ length: dirs }, (_, d) => d),
    8,
    (d) => mkdir(path.join(workspace, path.dirname(promptPath(d * 1000))), { recursive: true })
  )
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    64,
    (i) => writeFile(path.join(workspace, promptPath(i)), promptText(i))
  )
  return workspace
}

/** A workspace with data/rows.csv (id, subject, body: `rows` rows) and the template. */
export async function makeDataWorkspace(rows: number): Promise<string> {
  const workspace = await mkdtemp(path.join(tmpdir(), `cba-bench-data-${rows}-`))
  await mkdir(path.join(workspace, 'data'))
  await mkdir(path.join(workspace, 'templates'))
  await writeFile(path.join(workspace, TEMPLATE_FILE), TEMPLATE)
  const out = createWriteStream(path.join(workspace, DATA_FILE))
  let chunk = 'id,subject,body\n'
  for (let i = 0; i < rows; i++) {
    // Every 10th body has a comma and quotes, so the CSV needs real quoting.
    const body = i % 10 === 0 ? `"Order ${i}, again: the ""express"" option"` : `Order ${i} has not arrived after ${i % 30} days`
    chunk += `T${i},${SUBJECTS[i % SUBJECTS.length]},${body}\n`
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
  return workspace
}
