/**
 * The bad-input corpus: files and inputs a hostile or careless user gives the action, each with the
 * error the user must see. bad-input.test.ts runs every case through dist/index.js and checks, on
 * top of the error named here, the invariants every bad input must keep: a failed step, no batch,
 * nothing written in the workspace, no injected workflow command, no API key anywhere.
 *
 * Issue items are named in `item` ("5", "13", "path", "own" for cases the issue does not list).
 */
import type { ActionRun, Annotation } from '../support/run-action.js'

/** A link target outside the workspace: `@outside/<name>` becomes the absolute path of that file. */
export const OUTSIDE_FILES: Record<string, string> = {
  'secret.md': 'OUTSIDE-SECRET: the content of a file outside the workspace.\n',
  'secret.txt': 'OUTSIDE-SECRET system prompt.\n',
  'secret.csv': 'id,subject\n1,OUTSIDE-SECRET\n',
  'secret.jsonl': JSON.stringify({ custom_id: 'x', params: { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'OUTSIDE-SECRET' }] } }) + '\n',
  'dir/secret.md': 'OUTSIDE-SECRET in a directory.\n'
}

export interface CaseContext {
  run: ActionRun
  /** The errors annotated (level error). */
  errors: Annotation[]
  /** The log as the runner shows it (without ::add-mask:: lines). */
  log: string
  /** Every batch in the simulator when this case sent a create (none otherwise): pick the case's own by content. */
  batches: Array<{ requests: ReadonlyArray<{ custom_id: string; params: unknown }> }>
}

export interface BadCase {
  name: string
  /** Which item of the issue it covers. */
  item: string
  /** Workspace files: text, or bytes. */
  files?: Record<string, string | Uint8Array>
  /** Directories to make (empty ones). */
  dirs?: string[]
  /** Symbolic links: workspace path → target (relative, or `@outside/<file>`). */
  links?: Record<string, string>
  inputs?: Record<string, string>
  env?: Record<string, string>
  /** Run with no API key at all. */
  noKey?: boolean
  /**
   * The error the user must see: on `file` (and `line`) when given, its message matching `message`.
   * Without `file`, any error annotation whose message matches.
   */
  error: { file?: string; line?: number | number[]; message: RegExp }
  /**
   * When set, the case is judged by this function instead of the standard invariants about exit
   * code and batches (for inputs where a correct non-error behaviour is also acceptable). Returns
   * the broken expectations, empty when all hold.
   */
  alternative?: (c: CaseContext) => string[] | undefined
  /** Extra expectations on top of the standard ones; returns the broken ones. */
  extra?: (c: CaseContext) => string[]
}

const fm = (frontMatter: string, body = 'Write something.\n') => `---\n${frontMatter}\n---\n${body}`
const req = (customId: unknown, params: unknown) => JSON.stringify({ custom_id: customId, params })
const okParams = (content: unknown = 'Hi') => ({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content }] })
/**
 * A one-key front matter's `output:` line (2), or the body line (4) where the codebase annotates
 * problems of the request as a whole (submit.test.ts pins thinking errors there). Either, never none.
 */
const FM_OUTPUT = [2, 4]
const INJECT = '\n::warning::INJECTED'
const long = (n: number, ch = 'a') => ch.repeat(n)

// ~7.5M tokens at the simulator's 4 characters a token.
const HUGE_PROMPT = 'word '.repeat(6_000_000)
// Just over a 200k-token model's input limit (~225k tokens).
const OVER_200K = 'tok '.repeat(225_000)

/** 30 data rows, row 18 (line 19) far over 200k tokens: a count_tokens sample of 20 misses it. */
const SAMPLED_CSV = ['id,text', ...Array.from({ length: 30 }, (_, i) => `${i + 1},${i === 17 ? OVER_200K.trim() : `short ticket ${i + 1}`}`)].join('\n') + '\n'

/** A UTF-16LE file with a byte order mark. */
function utf16(text: string): Uint8Array {
  const body = Buffer.from(text, 'utf16le')
  return Buffer.concat([Buffer.from([0xff, 0xfe]), body])
}

// The start of a PNG, then noise: clearly not text.
const BINARY = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256))])

const PROMPT = { 'prompts/a.md': 'Say hello.\n' }
const DATA = { 'data/rows.csv': 'id,subject\n1,Lid\n2,Spout\n', 'templates/classify.md': 'Classify: {{subject}}\n' }
const DATA_INPUTS = { data: 'data/rows.csv', template: 'templates/classify.md' }
const REQUESTS = { 'batch/requests.jsonl': req('ready-1', okParams()) + '\n' }

/** Either an error on the file, or the UTF-16 text decoded and sent as it reads. */
function utf16Alternative(c: CaseContext): string[] {
  const onFile = c.errors.some((e) => e.file === 'prompts/utf16.md')
  if (onFile) return c.run.exitCode !== 0 && c.batches.length === 0 ? [] : ['refused the file but still exited 0 or created a batch']
  const sent = JSON.stringify(c.batches.flatMap((b) => b.requests.map((r) => r.params)))
  if (c.run.exitCode === 0 && sent.includes('Describe a teapot in French.') && !/not valid UTF-8/.test(c.log)) return []
  return ['neither refused the UTF-16 file on its path nor sent its text decoded (it was garbled or only warned about)']
}

export const CASES: BadCase[] = [
  // ---- Item 5: outputs that fail only when written -------------------------------------------------
  {
    name: 'output names an existing directory',
    item: '5',
    files: { 'prompts/a.md': fm('output: site'), 'site/index.html': '<p>x</p>\n' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /director/i }
  },
  {
    name: 'output under an existing file',
    item: '5',
    files: { 'prompts/a.md': fm('output: README.md/a.md'), 'README.md': '# readme\n' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /README\.md.*(is a file|not a (folder|directory))|file.*README\.md/i }
  },
  {
    name: 'output-dir names an existing file',
    item: '5',
    files: { ...PROMPT, 'notes.txt': 'notes\n' },
    inputs: { 'output-dir': 'notes.txt' },
    error: { message: /notes\.txt/ }
  },
  {
    name: 'output with a segment over 255 bytes',
    item: '5',
    files: { 'prompts/a.md': fm(`output: out/${long(300)}.md`) },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /255|too long/i }
  },
  {
    name: 'output segment over 255 bytes though under 255 characters (UTF-8)',
    item: '5',
    files: { 'prompts/a.md': fm(`output: out/${long(140, 'é')}.md`) },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /255|too long/i }
  },
  {
    name: 'a long .prompt.yml row id makes a segment over 255 bytes',
    item: '5',
    files: {
      'prompts/t.prompt.yml':
        ['messages:', '  - role: user', '    content: "Into {{lang}}: hi"', 'testData:', '  - { id: ok, lang: French }', `  - { id: ${long(300, 'b')}, lang: German }`].join('\n') +
        '\n'
    },
    error: { file: 'prompts/t.prompt.yml', line: 6, message: /255|too long/i }
  },
  {
    name: 'output holding a NUL byte',
    item: '5',
    files: { 'prompts/a.md': fm('output: "out/a\\0b.md"') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /NUL|null|\\0|\\u0000/i }
  },
  {
    name: 'output with a trailing slash',
    item: '5',
    files: { 'prompts/a.md': fm('output: generated/dir/') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /slash|director|folder|file name/i }
  },
  {
    name: 'output of a single dot',
    item: 'path',
    files: { 'prompts/a.md': fm('output: .') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /director|workspace|file/i }
  },

  // ---- Item 7 and the path rules: where generated text must never go -------------------------------
  {
    name: 'output .github/workflows/evil.yml',
    item: '7',
    files: { 'prompts/a.md': fm('output: .github/workflows/evil.yml') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.github/i }
  },
  {
    name: 'output .GitHub/workflows/x.yml (another case)',
    item: '7',
    files: { 'prompts/a.md': fm('output: .GitHub/workflows/x.yml') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.github/i }
  },
  {
    name: 'output reaching .github through ..',
    item: '7',
    files: { 'prompts/a.md': fm('output: generated/../.github/workflows/x.yml') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.github/i }
  },
  {
    name: 'output-dir .github/workflows',
    item: '7',
    files: PROMPT,
    inputs: { 'output-dir': '.github/workflows' },
    error: { message: /\.github/i }
  },
  {
    name: 'output through a link to .github',
    item: '7',
    files: { 'prompts/a.md': fm('output: site/workflows/x.yml'), '.github/workflows/ci.yml': 'on: push\n' },
    links: { site: '.github' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.github/i }
  },
  {
    name: 'output under .git/',
    item: 'path',
    files: { 'prompts/a.md': fm('output: .git/hooks/post-checkout'), '.git/HEAD': 'ref: refs/heads/main\n' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.git/i }
  },
  {
    name: 'output under .GIT/ (another case)',
    item: 'path',
    files: { 'prompts/a.md': fm('output: .GIT/config') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /\.git/i }
  },
  {
    name: 'output names another prompt file',
    item: 'path',
    files: { 'prompts/a.md': fm('output: prompts/b.md'), 'prompts/b.md': 'Another prompt.\n' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /prompts\/b\.md/ }
  },
  {
    name: 'output names another prompt file, spelt ./prompts//b.md',
    item: 'path',
    files: { 'prompts/a.md': fm('output: ./prompts//b.md'), 'prompts/b.md': 'Another prompt.\n' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /prompts\/+b\.md|source/ }
  },
  {
    name: 'output names its own prompt file',
    item: 'path',
    files: { 'prompts/a.md': fm('output: prompts/a.md') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /prompts\/a\.md|source/ }
  },
  {
    name: 'output-dir prompts: every output would overwrite its prompt',
    item: 'path',
    files: PROMPT,
    inputs: { 'output-dir': 'prompts' },
    error: { file: 'prompts/a.md', message: /overwrite|source|prompt/i }
  },
  {
    name: 'output names the template',
    item: 'path',
    files: { ...DATA, 'prompts/a.md': fm('output: templates/classify.md') },
    inputs: DATA_INPUTS,
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /templates\/classify\.md|source|template/i }
  },
  {
    name: 'output names the data file',
    item: 'path',
    files: { ...DATA, 'prompts/a.md': fm('output: data/rows.csv') },
    inputs: DATA_INPUTS,
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /data\/rows\.csv|source|data/i }
  },
  {
    name: 'output-dir makes the data output the data file itself',
    item: 'path',
    files: DATA,
    inputs: { ...DATA_INPUTS, prompts: '', 'output-dir': 'data' },
    error: { message: /data\/rows\.csv|source|overwrite/i }
  },
  {
    name: 'output names the requests file',
    item: 'path',
    files: { ...REQUESTS, 'prompts/a.md': fm('output: batch/requests.jsonl') },
    inputs: { requests: 'batch/requests.jsonl' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /requests\.jsonl|source|requests/i }
  },
  {
    name: 'output names the system prompt file',
    item: 'path',
    files: { 'prompts/a.md': fm('output: config/system.txt'), 'config/system.txt': 'You are terse.\n' },
    inputs: { 'system-prompt-file': 'config/system.txt' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /system\.txt|system prompt|source/i }
  },
  {
    name: 'output leaving the workspace with ..',
    item: 'path',
    files: { 'prompts/a.md': fm('output: ../escape.md') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /outside the workspace|inside the (repository|workspace)/i }
  },
  {
    name: 'absolute output path',
    item: 'path',
    files: { 'prompts/a.md': fm('output: /tmp/claude-batch-corpus-escape.md') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /absolute|outside|relative/i }
  },
  {
    name: 'output through a link to a folder outside the workspace',
    item: 'path',
    files: { 'prompts/a.md': fm('output: out/a.md') },
    links: { out: '@outside/dir' },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /outside/i }
  },
  {
    name: 'output-dir through a link outside the workspace',
    item: 'path',
    files: PROMPT,
    links: { out: '@outside/dir' },
    inputs: { 'output-dir': 'out' },
    error: { message: /outside/i }
  },
  {
    name: 'output-dir leaving the workspace',
    item: 'path',
    files: PROMPT,
    inputs: { 'output-dir': '../elsewhere' },
    error: { message: /output-dir/ }
  },

  // ---- Item 6: every path input followed through a link out of the workspace -----------------------
  {
    name: 'system-prompt-file is a link out of the workspace',
    item: '6',
    files: PROMPT,
    links: { 'config/system.txt': '@outside/secret.txt' },
    inputs: { 'system-prompt-file': 'config/system.txt' },
    error: { message: /system-prompt-file|system\.txt/ },
    extra: (c) =>
      c.errors.some((e) => /outside/i.test(e.message) && /system/i.test(`${e.file ?? ''} ${e.message}`))
        ? []
        : ['no error saying the system prompt file leads outside the workspace']
  },
  {
    name: 'system-prompt-file under a linked folder out of the workspace',
    item: '6',
    files: PROMPT,
    links: { config: '@outside/dir' },
    inputs: { 'system-prompt-file': 'config/secret.md' },
    error: { message: /outside/i }
  },
  {
    name: 'system-prompt-file absolute path outside',
    item: '6',
    files: PROMPT,
    inputs: { 'system-prompt-file': '/etc/hostname' },
    error: { message: /system-prompt-file/ }
  },
  {
    name: 'prompt file is a link out of the workspace',
    item: '6',
    files: PROMPT,
    links: { 'prompts/evil.md': '@outside/secret.md' },
    error: { file: 'prompts/evil.md', message: /outside/i }
  },
  {
    name: 'prompts pattern through a linked folder out of the workspace',
    item: '6',
    files: PROMPT,
    links: { linked: '@outside/dir' },
    inputs: { prompts: 'linked/secret.md' },
    error: { message: /outside|linked/i }
  },
  {
    name: 'data file is a link out of the workspace',
    item: '6',
    files: { 'templates/classify.md': 'Classify: {{subject}}\n' },
    links: { 'data/rows.csv': '@outside/secret.csv' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', message: /outside/i }
  },
  {
    name: 'template is a link out of the workspace',
    item: '6',
    files: { 'data/rows.csv': 'id,subject\n1,Lid\n' },
    links: { 'templates/classify.md': '@outside/secret.md' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'templates/classify.md', message: /outside/i }
  },
  {
    name: 'requests file is a link out of the workspace',
    item: '6',
    links: { 'batch/requests.jsonl': '@outside/secret.jsonl' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', message: /outside/i }
  },

  // ---- Item 9: workflow-command injection through names and values ---------------------------------
  {
    name: 'prompt file named with a newline and ::warning:: (front matter error)',
    item: '9',
    files: { [`prompts/x${INJECT}.md`]: fm('temprature: 1') },
    error: { message: /temprature/ }
  },
  {
    name: 'prompt file named with a newline and ::stop-commands::',
    item: '9',
    files: { 'prompts/x\n::stop-commands::INJECTED.md': fm('max_tokens: lots') },
    error: { message: /max_tokens/ }
  },
  {
    name: 'skipped non-prompt file named with a newline and ::error::',
    item: '9',
    files: { 'prompts/x\n::error::INJECTED.png': 'png', 'prompts/y.md': fm('bogus: 1') },
    error: { file: 'prompts/y.md', line: 2, message: /bogus/ }
  },
  {
    name: 'model name with a newline and ::warning::',
    item: '9',
    files: { 'prompts/a.md': fm('model: "claude-x\\n::warning::INJECTED"') },
    error: { file: 'prompts/a.md', message: /model|claude-x/i }
  },
  {
    name: 'output path with a newline and ::warning::',
    item: '9',
    files: { 'prompts/a.md': fm('output: "out/x\\n::warning::INJECTED.md"') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /output|line break|newline|character/i }
  },
  {
    name: 'unknown front matter key with a newline and ::warning::',
    item: '9',
    files: { 'prompts/a.md': fm('"k\\n::warning::INJECTED": 1') },
    error: { file: 'prompts/a.md', line: 2, message: /Unknown front matter key/ }
  },
  {
    name: 'JSONL data field names with a newline and ::warning:: (template variable missing)',
    item: '9',
    files: { 'data/rows.jsonl': JSON.stringify({ id: 1, [`a${INJECT}`]: 'v' }) + '\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { data: 'data/rows.jsonl', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.jsonl', line: 1, message: /subject/ }
  },
  {
    name: 'CSV header with a newline and ::warning:: (template variable missing)',
    item: '9',
    files: { 'data/rows.csv': `id,"a${INJECT}"\n1,v\n`, 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'templates/classify.md', line: 1, message: /subject/ }
  },
  {
    name: 'JSONL data value with a newline and ::warning:: in a row that fails',
    item: '9',
    files: { 'data/rows.jsonl': JSON.stringify({ id: `1${INJECT}`, note: `n${INJECT}` }) + '\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { data: 'data/rows.jsonl', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.jsonl', line: 1, message: /subject/ }
  },
  {
    name: 'testData id with a newline and ::warning::',
    item: '9',
    files: {
      'prompts/t.prompt.yml':
        ['messages:', '  - role: user', '    content: "Into {{lang}}: hi"', 'testData:', '  - { id: "r\\n::warning::INJECTED", lang: French }'].join('\n') + '\n'
    },
    error: { file: 'prompts/t.prompt.yml', line: 5, message: /id/ }
  },
  {
    name: 'requests custom_id with a newline and ::warning::',
    item: '9',
    files: { 'batch/requests.jsonl': req(`a${INJECT}`, okParams()) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /custom_id/ }
  },
  {
    name: 'data input path with a newline and ::warning::',
    item: '9',
    files: { [`d${INJECT}.csv`]: 'id,subject\n1,x\n' },
    inputs: { data: `d${INJECT}.csv`, prompts: '' },
    error: { message: /template/ }
  },
  {
    name: 'system-prompt-file input with a newline and ::warning::',
    item: '9',
    files: PROMPT,
    inputs: { 'system-prompt-file': `missing${INJECT}` },
    error: { message: /system-prompt-file/ }
  },

  // ---- Item 10: input tokens ------------------------------------------------------------------------
  {
    name: '~7.5M-token prompt on a 200k-token model',
    item: '10',
    files: { 'prompts/huge.md': HUGE_PROMPT },
    error: { file: 'prompts/huge.md', message: /200,?000|200k|input token|context|too (long|large)/i }
  },
  {
    name: 'prompt just over a 200k-token model input limit',
    item: '10',
    files: { 'prompts/big.md': OVER_200K, 'prompts/small.md': 'Hi.\n' },
    error: { file: 'prompts/big.md', message: /200,?000|200k|input token|context|too (long|large)/i }
  },
  {
    name: 'one data row over the input limit, missed by a count_tokens sample',
    item: '10',
    files: { 'data/rows.csv': SAMPLED_CSV, 'templates/classify.md': 'Classify: {{text}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', line: 19, message: /200,?000|200k|input token|context|too (long|large)/i }
  },
  {
    name: 'a ready-made request over the input limit',
    item: '10',
    files: { 'batch/requests.jsonl': [req('ok-1', okParams()), req('big-1', okParams(OVER_200K))].join('\n') + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 2, message: /200,?000|200k|input token|context|too (long|large)/i }
  },

  // ---- Item 13: the smaller ones --------------------------------------------------------------------
  {
    name: 'requests line with messages: ["hi"]',
    item: '13',
    files: { 'batch/requests.jsonl': req('r-1', { model: 'claude-haiku-4-5', max_tokens: 20, messages: ['hi'] }) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /messages|role|content/ }
  },
  {
    name: 'requests line with a message of an unknown role',
    item: '13',
    files: { 'batch/requests.jsonl': req('r-1', { model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'robot', content: 'hi' }] }) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /role|robot/ }
  },
  {
    name: 'requests line with a message without content',
    item: '13',
    files: { 'batch/requests.jsonl': req('r-1', { model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user' }] }) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /content/ }
  },
  {
    name: 'retention-days 1000',
    item: '13',
    files: PROMPT,
    inputs: { 'retention-days': '1000' },
    error: { message: /retention-days.*90|90.*retention-days/ }
  },
  {
    name: 'retention-days 0',
    item: 'own',
    files: PROMPT,
    inputs: { 'retention-days': '0' },
    error: { message: /retention-days/ }
  },
  {
    name: 'retention-days 2.5',
    item: 'own',
    files: PROMPT,
    inputs: { 'retention-days': '2.5' },
    error: { message: /retention-days/ }
  },
  {
    name: 'binary prompt file',
    item: '13',
    files: { 'prompts/image.md': BINARY },
    error: { file: 'prompts/image.md', message: /binary|UTF-8|text/i }
  },
  {
    name: 'UTF-16 prompt file (refused on its path, or read as the text it holds)',
    item: '13',
    files: { 'prompts/utf16.md': utf16('Describe a teapot in French.\n') },
    error: { file: 'prompts/utf16.md', message: /UTF-16|UTF-8|encoding/i },
    alternative: utf16Alternative
  },
  {
    name: 'Latin-1 prompt file (bytes that are not UTF-8 would be sent as U+FFFD)',
    item: 'own',
    files: { 'prompts/latin1.md': Buffer.from('Décrivez une théière.\n', 'latin1') },
    error: { file: 'prompts/latin1.md', message: /UTF-8|encoding/i }
  },
  {
    name: 'max-cost abc gives exactly one error',
    item: '13',
    files: PROMPT,
    inputs: { 'max-cost': 'abc' },
    error: { message: /max-cost/ },
    extra: (c) => {
      const broken: string[] = []
      const aboutMaxCost = c.errors.filter((e) => /max-cost/.test(e.message))
      if (aboutMaxCost.length !== 1) broken.push(`${aboutMaxCost.length} errors mention max-cost (want exactly one): ${aboutMaxCost.map((e) => e.message).join(' | ')}`)
      if (/exceeds max-cost/.test(c.log)) broken.push('says the estimate "exceeds max-cost" for a max-cost that is not a number')
      return broken
    }
  },
  {
    name: 'max-cost -5',
    item: 'own',
    files: PROMPT,
    inputs: { 'max-cost': '-5' },
    error: { message: /max-cost/ }
  },
  {
    name: 'non-dry run without a key',
    item: '13',
    files: PROMPT,
    noKey: true,
    error: { message: /API key/ },
    extra: (c) => (/dry run/i.test(c.log + c.run.summary) ? ['mentions a dry run although dry-run is off'] : [])
  },

  // ---- Own: front matter and YAML ---------------------------------------------------------------
  {
    name: 'front matter not closed',
    item: 'own',
    files: { 'prompts/a.md': '---\nmax_tokens: 10\nWrite something.\n' },
    error: { file: 'prompts/a.md', line: 1, message: /not closed|---/ }
  },
  {
    name: 'front matter with a YAML syntax error',
    item: 'own',
    files: { 'prompts/a.md': fm('model: [unclosed') },
    error: { file: 'prompts/a.md', line: 2, message: /./ }
  },
  {
    name: 'front matter with a tab indent',
    item: 'own',
    files: { 'prompts/a.md': fm('params:\n\tstop_sequences: [END]') },
    error: { file: 'prompts/a.md', message: /tab|indent|YAML/i }
  },
  {
    name: 'front matter that is a list',
    item: 'own',
    files: { 'prompts/a.md': fm('- model\n- max_tokens') },
    error: { file: 'prompts/a.md', line: 2, message: /keys and values/ }
  },
  {
    name: 'front matter with a misspelt key',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 10\ntemprature: 0.5') },
    error: { file: 'prompts/a.md', line: 3, message: /temprature/ }
  },
  {
    name: 'front matter with a duplicate key',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 10\nmax_tokens: 20') },
    error: { file: 'prompts/a.md', line: 3, message: /max_tokens|duplicate|unique|twice/i }
  },
  {
    name: 'max_tokens as text',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: lots') },
    error: { file: 'prompts/a.md', line: 2, message: /max_tokens/ }
  },
  {
    name: 'max_tokens 0',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 0') },
    error: { file: 'prompts/a.md', line: 2, message: /max_tokens/ }
  },
  {
    name: 'max_tokens 1.5',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 1.5') },
    error: { file: 'prompts/a.md', line: 2, message: /max_tokens/ }
  },
  {
    name: 'system as a list',
    item: 'own',
    files: { 'prompts/a.md': fm('system: [a, b]') },
    error: { file: 'prompts/a.md', line: 2, message: /system/ }
  },
  {
    name: 'model as a number',
    item: 'own',
    files: { 'prompts/a.md': fm('model: 4.5') },
    error: { file: 'prompts/a.md', line: 2, message: /model/ }
  },
  {
    name: 'output as a list',
    item: 'own',
    files: { 'prompts/a.md': fm('output: [a.md, b.md]') },
    error: { file: 'prompts/a.md', line: FM_OUTPUT, message: /output/ }
  },
  {
    name: 'params as text',
    item: 'own',
    files: { 'prompts/a.md': fm('params: stop') },
    error: { file: 'prompts/a.md', line: 2, message: /params/ }
  },
  {
    name: 'params.temperature (rejected by the API version)',
    item: 'own',
    files: { 'prompts/a.md': fm('params:\n  temperature: 0.2') },
    error: { file: 'prompts/a.md', line: 3, message: /temperature/ }
  },
  {
    name: 'params.model duplicates a front matter key',
    item: 'own',
    files: { 'prompts/a.md': fm('params:\n  model: claude-opus-4-6') },
    error: { file: 'prompts/a.md', line: 3, message: /model/ }
  },
  {
    name: 'params.stream',
    item: 'own',
    files: { 'prompts/a.md': fm('params:\n  stream: true') },
    error: { file: 'prompts/a.md', line: 3, message: /stream/ }
  },
  {
    name: 'params.max_tokens as text (inside params)',
    item: 'own',
    files: { 'prompts/a.md': fm('params:\n  max_tokens: many') },
    error: { file: 'prompts/a.md', line: 3, message: /max_tokens/ }
  },
  {
    name: 'empty prompt file',
    item: 'own',
    files: { 'prompts/a.md': '' },
    error: { file: 'prompts/a.md', message: /empty/i }
  },
  {
    name: 'prompt of front matter only',
    item: 'own',
    files: { 'prompts/a.md': '---\nmax_tokens: 10\n---\n' },
    error: { file: 'prompts/a.md', message: /empty/i }
  },
  {
    name: 'prompt of whitespace only',
    item: 'own',
    files: { 'prompts/a.md': ' \n\t\n  \n' },
    error: { file: 'prompts/a.md', message: /empty/i }
  },

  // ---- Own: .prompt.yml ------------------------------------------------------------------------------
  {
    name: '.prompt.yml with a YAML syntax error',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: user\n    content: "unclosed\n' },
    error: { file: 'prompts/t.prompt.yml', message: /./ }
  },
  {
    name: '.prompt.yml without messages',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'model: claude-haiku-4-5\n' },
    error: { file: 'prompts/t.prompt.yml', line: 1, message: /messages/ }
  },
  {
    name: '.prompt.yml with only a system message',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: system\n    content: Be brief.\n' },
    error: { file: 'prompts/t.prompt.yml', message: /user message/ }
  },
  {
    name: '.prompt.yml with an unknown role',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: robot\n    content: Beep.\n' },
    error: { file: 'prompts/t.prompt.yml', line: 2, message: /robot/ }
  },
  {
    name: '.prompt.yml with an empty testData',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: user\n    content: Hi {{x}}\ntestData: []\n' },
    error: { file: 'prompts/t.prompt.yml', line: 4, message: /testData/ }
  },
  {
    name: '.prompt.yml with duplicate row ids',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: user\n    content: Hi {{x}}\ntestData:\n  - { id: a, x: 1 }\n  - { id: a, x: 2 }\n' },
    error: { file: 'prompts/t.prompt.yml', line: 6, message: /same name|id/ }
  },
  {
    name: '.prompt.yml row missing a template variable',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: user\n    content: Hi {{x}} {{y}}\ntestData:\n  - { x: 1, y: 2 }\n  - { x: 1 }\n' },
    error: { file: 'prompts/t.prompt.yml', line: 6, message: /"y"/ }
  },
  {
    name: '.prompt.yml row id that is a path (../../x)',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'messages:\n  - role: user\n    content: Hi {{x}}\ntestData:\n  - { id: ../../x, x: 1 }\n' },
    error: { file: 'prompts/t.prompt.yml', line: 5, message: /file name|id/ }
  },
  {
    name: '.prompt.yml with an unknown modelParameters key',
    item: 'own',
    files: { 'prompts/t.prompt.yml': 'modelParameters:\n  maxTokns: 10\nmessages:\n  - role: user\n    content: Hi\n' },
    error: { file: 'prompts/t.prompt.yml', line: 2, message: /maxTokns/ }
  },

  // ---- Own: data and template ----------------------------------------------------------------------
  {
    name: 'CSV with an unclosed quote',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,"Lid\n2,Spout\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', line: 2, message: /quote|CSV/i }
  },
  {
    name: 'CSV with a comma that is not quoted',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,Late, again\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', line: 2, message: /Quote fields|fields/ }
  },
  {
    name: 'empty CSV file',
    item: 'own',
    files: { 'data/rows.csv': '', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', message: /empty|header/i }
  },
  {
    name: 'CSV with a header only (no rows, nothing else to send)',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { message: /no (rows|requests)/i }
  },
  {
    name: 'CSV with a column named output',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject,output\n1,Lid,x\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'data/rows.csv', line: 1, message: /output/ }
  },
  {
    name: 'template variable missing from the data',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,Lid\n', 'templates/classify.md': 'Classify {{subject}} for {{customer}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'templates/classify.md', line: 1, message: /customer/ }
  },
  {
    name: 'JSONL data row missing a template variable',
    item: 'own',
    files: { 'data/rows.jsonl': '{"id":1,"subject":"a"}\n{"id":2}\n', 'templates/classify.md': 'Classify {{subject}}\n' },
    inputs: { data: 'data/rows.jsonl', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.jsonl', line: 2, message: /subject/ }
  },
  {
    name: 'data without template',
    item: 'own',
    files: DATA,
    inputs: { data: 'data/rows.csv', prompts: '' },
    error: { message: /template/ }
  },
  {
    name: 'template without data',
    item: 'own',
    files: DATA,
    inputs: { template: 'templates/classify.md', prompts: '' },
    error: { message: /data/ }
  },
  {
    name: 'data file of an unknown format (.xlsx)',
    item: 'own',
    files: { 'data/rows.xlsx': 'PK\u0003\u0004', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { data: 'data/rows.xlsx', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.xlsx', message: /\.csv/ }
  },
  {
    name: 'JSON data that is not an array',
    item: 'own',
    files: { 'data/rows.json': '{"id": 1, "subject": "x"}\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { data: 'data/rows.json', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.json', line: 1, message: /array/ }
  },
  {
    name: 'JSON data that is invalid',
    item: 'own',
    files: { 'data/rows.json': '[\n  {"id": 1, "subject": "x"},\n  {"id": 2 "subject": "y"}\n]\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { data: 'data/rows.json', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.json', line: 3, message: /JSON/ }
  },
  {
    name: 'JSONL data with an invalid line',
    item: 'own',
    files: { 'data/rows.jsonl': '{"id":1,"subject":"a"}\n{"id":2,\n', 'templates/classify.md': 'Classify {{subject}}\n' },
    inputs: { data: 'data/rows.jsonl', template: 'templates/classify.md', prompts: '' },
    error: { file: 'data/rows.jsonl', line: 2, message: /JSON/ }
  },
  {
    name: 'template with an output key',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,Lid\n', 'templates/classify.md': fm('output: x.md', 'Classify: {{subject}}\n') },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'templates/classify.md', line: 2, message: /output/ }
  },
  {
    name: 'template that is not a prompt file (.csv)',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,Lid\n', 'templates/classify.csv': 'a,b\n' },
    inputs: { data: 'data/rows.csv', template: 'templates/classify.csv', prompts: '' },
    error: { file: 'templates/classify.csv', message: /prompt file/ }
  },
  {
    name: 'empty template',
    item: 'own',
    files: { 'data/rows.csv': 'id,subject\n1,Lid\n', 'templates/classify.md': '' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { file: 'templates/classify.md', message: /empty/i }
  },
  {
    name: 'data file that does not exist',
    item: 'own',
    files: { 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { message: /data\/rows\.csv.*does not exist|does not exist.*data\/rows\.csv/ }
  },
  {
    name: 'data input naming a directory',
    item: 'own',
    files: { 'data/rows.csv/readme.txt': 'x\n', 'templates/classify.md': 'Classify: {{subject}}\n' },
    inputs: { ...DATA_INPUTS, prompts: '' },
    error: { message: /directory/ }
  },

  // ---- Own: outputs that collide -----------------------------------------------------------------
  {
    name: 'two prompts with the same output',
    item: 'own',
    files: { 'prompts/a.md': fm('output: out/same.md'), 'prompts/b.md': fm('output: out/same.md') },
    error: { file: 'prompts/b.md', line: FM_OUTPUT, message: /out\/same\.md/ }
  },
  {
    name: 'an output equal to another prompt\u2019s default output',
    item: 'own',
    files: { 'prompts/a.md': 'Hi.\n', 'prompts/b.md': fm('output: generated/a.md') },
    error: { file: 'prompts/b.md', line: FM_OUTPUT, message: /generated\/a\.md/ }
  },
  {
    name: 'two outputs differing only in case',
    item: 'own',
    files: { 'prompts/a.md': fm('output: out/Same.md'), 'prompts/b.md': fm('output: out/same.md') },
    error: { file: 'prompts/b.md', line: FM_OUTPUT, message: /same\.md/i }
  },

  // ---- Own: models and their limits ----------------------------------------------------------------
  {
    name: 'unknown model',
    item: 'own',
    files: { 'prompts/a.md': fm('model: claude-does-not-exist-9') },
    error: { file: 'prompts/a.md', message: /claude-does-not-exist-9/ }
  },
  {
    name: 'retired model',
    item: 'own',
    files: { 'prompts/a.md': fm('model: claude-3-5-haiku-latest') },
    error: { file: 'prompts/a.md', message: /retired/ }
  },
  {
    name: 'model without Batch API support',
    item: 'own',
    files: { 'prompts/a.md': fm('model: claude-mythos-preview') },
    error: { file: 'prompts/a.md', message: /Batch/ }
  },
  {
    name: 'unknown model from the model input',
    item: 'own',
    files: PROMPT,
    inputs: { model: 'claude-nope' },
    error: { message: /claude-nope/ }
  },
  {
    name: 'max_tokens over the model maximum',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 70000') },
    error: { file: 'prompts/a.md', message: /70000.*64000/ }
  },
  {
    name: 'max-tokens input over the model maximum',
    item: 'own',
    files: PROMPT,
    inputs: { 'max-tokens': '100000' },
    error: { message: /100000/ }
  },
  {
    name: 'thinking type the model refuses',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 4000\nparams:\n  thinking: { type: adaptive }') },
    error: { file: 'prompts/a.md', line: [4, 6], message: /adaptive/ }
  },
  {
    name: 'thinking budget not below max_tokens',
    item: 'own',
    files: { 'prompts/a.md': fm('max_tokens: 1000\nparams:\n  thinking: { type: enabled, budget_tokens: 2000 }') },
    error: { file: 'prompts/a.md', message: /budget_tokens/ }
  },

  // ---- Own: ready-made requests -------------------------------------------------------------------
  {
    name: 'requests: invalid custom_id',
    item: 'own',
    files: { 'batch/requests.jsonl': req('has space', okParams()) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /custom_id/ }
  },
  {
    name: 'requests: custom_id of 65 characters',
    item: 'own',
    files: { 'batch/requests.jsonl': req(long(65, 'x'), okParams()) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /custom_id/ }
  },
  {
    name: 'requests: duplicate custom_id',
    item: 'own',
    files: { 'batch/requests.jsonl': [req('same', okParams()), req('other', okParams()), req('same', okParams())].join('\n') + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 3, message: /same.*line 1/ }
  },
  {
    name: 'requests: a line that is not JSON',
    item: 'own',
    files: { 'batch/requests.jsonl': req('a', okParams()) + '\n{custom_id: b}\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 2, message: /JSON/ }
  },
  {
    name: 'requests: no params',
    item: 'own',
    files: { 'batch/requests.jsonl': JSON.stringify({ custom_id: 'a' }) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /params/ }
  },
  {
    name: 'requests: max_tokens as text',
    item: 'own',
    files: { 'batch/requests.jsonl': req('a', { ...okParams(), max_tokens: '20' }) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /max_tokens/ }
  },
  {
    name: 'requests: unknown model inside params',
    item: 'own',
    files: { 'batch/requests.jsonl': [req('a', okParams()), req('b', { ...okParams(), model: 'claude-nope-2' })].join('\n') + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 2, message: /claude-nope-2/ }
  },
  {
    name: 'requests: empty file',
    item: 'own',
    files: { 'batch/requests.jsonl': '' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { message: /no requests|empty/i }
  },
  {
    name: 'requests: a 4 MB line cut short (huge line, not echoed back)',
    item: 'own',
    files: { 'batch/requests.jsonl': req('a', okParams(long(4_000_000, 'z'))).slice(0, -3) + '\n' },
    inputs: { requests: 'batch/requests.jsonl', prompts: '' },
    error: { file: 'batch/requests.jsonl', line: 1, message: /JSON/ },
    extra: (c) => (c.run.stdout.length > 100_000 ? [`the log is ${c.run.stdout.length} characters: the huge line was echoed`] : [])
  },

  // ---- Own: inputs -------------------------------------------------------------------------------
  // The pay-once inputs, and a lock file a pull request left broken.
  { name: 'lock-file leaving the workspace', item: 'own', files: PROMPT, inputs: { 'lock-file': '../claude-batch.lock.json' }, error: { message: /lock-file/ } },
  { name: 'lock-file under .github', item: 'own', files: PROMPT, inputs: { 'lock-file': '.github/claude-batch.lock.json' }, error: { message: /\.github/ } },
  { name: 'lock-file naming a prompt file', item: 'own', files: PROMPT, inputs: { 'lock-file': 'prompts/a.md' }, error: { message: /prompts\/a\.md/ } },
  {
    name: 'lock file left with a merge conflict',
    item: 'own',
    files: { ...PROMPT, 'claude-batch.lock.json': '{\n<<<<<<< HEAD\n  "generated/a.md": {"fingerprint":"x","batch":"b","at":"t"}\n=======\n>>>>>>> other\n}\n' },
    error: { file: 'claude-batch.lock.json', message: /not JSON.*merge conflict/ }
  },
  { name: 'max-requests 0', item: 'own', files: PROMPT, inputs: { 'max-requests': '0' }, error: { message: /max-requests/ } },
  { name: 'max-requests abc', item: 'own', files: PROMPT, inputs: { 'max-requests': 'abc' }, error: { message: /max-requests/ } },
  { name: 'retry-failed -1', item: 'own', files: PROMPT, inputs: { 'retry-failed': '-1' }, error: { message: /retry-failed/ } },
  { name: 'wait-minutes -1', item: 'own', files: PROMPT, inputs: { 'wait-minutes': '-1' }, error: { message: /wait-minutes/ } },
  { name: 'poll-interval-seconds 0', item: 'own', files: PROMPT, inputs: { 'poll-interval-seconds': '0' }, error: { message: /poll-interval-seconds/ } },
  { name: 'command x', item: 'own', files: PROMPT, inputs: { command: 'x' }, error: { message: /command/ } },
  { name: 'anthropic-base-url ftp://', item: 'own', files: PROMPT, inputs: { 'anthropic-base-url': 'ftp://example.com' }, error: { message: /anthropic-base-url/ } },
  { name: 'anthropic-base-url not a URL', item: 'own', files: PROMPT, inputs: { 'anthropic-base-url': 'api dot anthropic' }, error: { message: /anthropic-base-url/ } },
  { name: 'model-prices garbage', item: 'own', files: PROMPT, inputs: { 'model-prices': '{{{ not: yaml' }, error: { message: /model-prices/ } },
  {
    name: 'model-prices with a price that is not a number',
    item: 'own',
    files: PROMPT,
    inputs: { 'model-prices': '{"claude-haiku-4-5": {"input": "cheap", "output": 5}}' },
    error: { message: /model-prices/ }
  },
  {
    name: 'model-prices with a negative price',
    item: 'own',
    files: PROMPT,
    inputs: { 'model-prices': '{"claude-haiku-4-5": {"input": -1, "output": 5}}' },
    error: { message: /model-prices/ }
  },
  { name: 'max-tokens abc', item: 'own', files: PROMPT, inputs: { 'max-tokens': 'abc' }, error: { message: /max-tokens/ } },
  { name: 'dry-run maybe', item: 'own', files: PROMPT, inputs: { 'dry-run': 'maybe' }, error: { message: /dry-run/ } },
  { name: 'fail-on-error nah', item: 'own', files: PROMPT, inputs: { 'fail-on-error': 'nah' }, error: { message: /fail-on-error/ } },
  { name: 'prompts pattern absolute', item: 'own', files: PROMPT, inputs: { prompts: '/etc/*' }, error: { message: /absolute/ } },
  { name: 'prompts pattern leaving the workspace', item: 'own', files: PROMPT, inputs: { prompts: '../*.md' }, error: { message: /leaves the workspace/ } },
  { name: 'prompts pattern matching nothing', item: 'own', files: PROMPT, inputs: { prompts: 'prompt/*.md' }, error: { message: /matched no files/ } },
  {
    name: 'system-prompt and system-prompt-file both',
    item: 'own',
    files: { ...PROMPT, 'config/system.txt': 'Be brief.\n' },
    inputs: { 'system-prompt': 'Be long.', 'system-prompt-file': 'config/system.txt' },
    error: { message: /system-prompt/ }
  },
  {
    name: 'system-prompt-file empty',
    item: 'own',
    files: { ...PROMPT, 'config/system.txt': '\n\n' },
    inputs: { 'system-prompt-file': 'config/system.txt' },
    error: { file: 'config/system.txt', message: /empty/ }
  },
  {
    name: 'system-prompt-file is a directory',
    item: 'own',
    files: { ...PROMPT, 'config/readme.txt': 'x\n' },
    inputs: { 'system-prompt-file': 'config' },
    error: { message: /system-prompt-file/ }
  },
  {
    name: 'system-prompt-file binary',
    item: 'own',
    files: { ...PROMPT, 'config/system.txt': BINARY },
    inputs: { 'system-prompt-file': 'config/system.txt' },
    error: { message: /system|binary|UTF-8/i }
  },
  {
    name: 'open-pr not a boolean',
    item: 'own',
    files: PROMPT,
    inputs: { 'open-pr': 'yes please' },
    error: { message: /open-pr/ }
  }
]

/**
 * A manifest edited after submit (a compromised or buggy run, a hand edit): collect must check every
 * path again, exactly as submit does, before writing anything (issue items 7 and 9).
 */
export interface ForgedManifestCase {
  name: string
  item: string
  /** The output path written into the manifest for the submission's one request. */
  output: string
  files?: Record<string, string>
  links?: Record<string, string>
  /** The error collect must give (on the manifest's source file, or unplaced). */
  message: RegExp
}

export const FORGED: ForgedManifestCase[] = [
  { name: 'manifest output .github/workflows/evil.yml', item: '7', output: '.github/workflows/evil.yml', message: /\.github/i },
  { name: 'manifest output .GitHub/workflows/x.yml', item: '7', output: '.GitHub/workflows/x.yml', message: /\.github/i },
  { name: 'manifest output naming the prompt file it came from', item: '7', output: 'prompts/a.md', message: /prompts\/a\.md/ },
  { name: 'manifest output under .git/', item: '7', output: '.git/config', files: { '.git/config': '[core]\n' }, message: /\.git/i },
  { name: 'manifest output leaving the workspace', item: '7', output: '../escape.md', message: /outside|workspace/i },
  { name: 'manifest output absolute', item: '7', output: '/tmp/claude-batch-corpus-forged.md', message: /outside|absolute|workspace/i },
  { name: 'manifest output through a link outside', item: '7', output: 'out/a.md', links: { out: '@outside/dir' }, message: /outside/i },
  { name: 'manifest output holding a newline and ::warning::', item: '9', output: `out/x${INJECT}.md`, message: /out\/x/ },
  { name: 'manifest output naming an existing directory', item: '5', output: 'site', files: { 'site/index.html': 'x\n' }, message: /director|site/i },
  { name: 'manifest output under an existing file', item: '5', output: 'README.md/x.md', files: { 'README.md': '# r\n' }, message: /README\.md/ },
  { name: 'manifest output with a 300-byte segment', item: '5', output: `out/${long(300)}.md`, message: /255|too long/i },
  { name: 'manifest output holding a NUL byte', item: '5', output: 'out/a\u0000b.md', message: /NUL|null|\\0|\\u0000/i },
  { name: 'manifest output with a trailing slash', item: '5', output: 'generated/dir/', message: /slash|director|folder|file name/i }
]
