import * as core from '@actions/core'
import type { Problem } from './sources/types.js'
import { openWorkspace, resolveInputFile, toWorkspacePath } from './paths/workspace.js'
import { readUtf8File } from './sources/text.js'
import { parsePriceOverrides, type PriceOverrides } from './cost/prices.js'
import { esc } from './report/escape.js'
import { DEFAULT_LOCK_FILE } from './state/lock.js'
import { CACHE_MODES, type CacheMode } from './plan/cache.js'

export const DEFAULT_PROMPTS = 'prompts/**/*'
/** GitHub's longest artifact retention (1 to 90 days); a larger value would fail only at upload, after the batch is paid. */
export const MAX_RETENTION_DAYS = 90
export const COMMANDS = ['submit', 'collect', 'status', 'cancel'] as const
export type Command = (typeof COMMANDS)[number]

/** Every action input, parsed and checked once. Only this module and main.ts read inputs. */
export interface Inputs {
  command: Command
  /** Undefined when neither the input nor ANTHROPIC_API_KEY is set. */
  apiKey?: string
  baseURL?: string
  workspace: string
  prompts: string[]
  promptsIsDefault: boolean
  data?: string
  template?: string
  requests?: string
  model: string
  maxTokens: number
  system?: string
  /** Workspace-relative path of `system-prompt-file`, once checked: a source no output may overwrite. */
  systemPromptFile?: string
  /** The `schema-file` input as given: the JSON Schema for prompts that name none (checked by the sources). */
  schemaFile?: string
  outputDir: string
  /** False when output-dir was left empty. */
  outputDirSet: boolean
  waitMinutes: number
  pollIntervalSeconds: number
  dryRun: boolean
  maxCost?: number
  failOnError: boolean
  prices: PriceOverrides
  retentionDays: number
  githubToken?: string
  /** For collect and cancel: one batch (any batch id of a submission), or `all` for cancel. */
  batchId?: string
  pr: { open: boolean; base?: string; branch?: string; title?: string; labels: string[]; draft: boolean }
  /** Workspace-relative path of the lock file (state/lock.ts); undefined when the input is empty (pay once off). */
  lockFile?: string
  /** Send everything once, and rewrite the lock. */
  regenerate: boolean
  /** Delete the outputs and lock entries whose source is gone. */
  prune: boolean
  /** At most this many requests a run; the rest is left for later runs. */
  maxRequests?: number
  /** Rounds of resubmitting retryable failures while submit waits. */
  retryFailed: number
  /** Prompt caching (plan/cache.ts): `auto` marks shared prefixes with a one-hour cache_control, `off` sends plain strings. */
  cache: CacheMode
}

/**
 * Reads the inputs. Problems are collected rather than thrown so that a run with several mistakes
 * reports them all at once.
 */
export async function readInputs(env: NodeJS.ProcessEnv = process.env): Promise<{ inputs: Inputs; problems: Problem[] }> {
  const problems: Problem[] = []
  const bad = (name: string, message: string): void => {
    problems.push({ message: `Input ${name}: ${message}` })
  }
  const workspace = env.GITHUB_WORKSPACE || process.cwd()

  const command = (core.getInput('command') || 'submit').toLowerCase() as Command
  if (!COMMANDS.includes(command)) bad('command', `"${esc(command)}" is not one of ${COMMANDS.join(', ')}.`)

  const apiKey = core.getInput('anthropic-api-key') || env.ANTHROPIC_API_KEY || undefined
  // Masked before anything else can print it.
  if (apiKey) core.setSecret(apiKey)
  const baseURL = core.getInput('anthropic-base-url') || env.ANTHROPIC_BASE_URL || undefined
  if (baseURL && !/^https?:\/\/[^\s]+$/.test(baseURL)) bad('anthropic-base-url', `"${esc(baseURL)}" is not an http(s) URL.`)

  // The runner always passes an input's default, so a missing variable means a local run without
  // it (the default applies) while an empty one means the user set `prompts: ''` to read none.
  const promptLines =
    env.INPUT_PROMPTS === undefined
      ? [DEFAULT_PROMPTS]
      : core
          .getMultilineInput('prompts')
          .map((line) => line.trim())
          .filter((line) => line && !line.startsWith('#'))
  const promptsIsDefault = promptLines.length === 1 && promptLines[0] === DEFAULT_PROMPTS

  const relative = (name: string): string | undefined => {
    const value = core.getInput(name)
    if (!value) return undefined
    const rel = toWorkspacePath(workspace, value)
    if (rel === undefined) bad(name, `"${esc(value)}" is outside the workspace: write a path relative to the repository root, without leading "../".`)
    return rel
  }

  const model = core.getInput('model') || 'claude-haiku-4-5'
  const maxTokens = integer(core.getInput('max-tokens') || '1024', 'max-tokens', 1, bad)

  const systemPrompt = core.getInput('system-prompt') || undefined
  const systemPromptInput = core.getInput('system-prompt-file') || undefined
  let system = systemPrompt
  let systemPromptFile: string | undefined
  if (systemPrompt && systemPromptInput) {
    bad('system-prompt-file', 'set either system-prompt or system-prompt-file, not both.')
  } else if (systemPromptInput) {
    // The same confinement as prompt, data and template files: a link out of the workspace is refused.
    const found = await resolveInputFile(await openWorkspace(workspace), 'system-prompt-file', systemPromptInput)
    if ('error' in found) {
      problems.push(found.error)
    } else {
      try {
        const read = await readUtf8File(found.abs, found.file)
        systemPromptFile = found.file
        if (read.error !== undefined) problems.push({ file: found.file, message: read.error })
        else {
          system = read.text.trimEnd()
          if (!system.trim())
            problems.push({ file: found.file, message: 'The system prompt file is empty: write the system prompt in it, or remove the system-prompt-file input.' })
        }
      } catch (error) {
        problems.push({ file: found.file, message: `Input system-prompt-file: cannot read ${JSON.stringify(found.file)}: ${(error as Error).message}` })
      }
    }
  }

  // Empty means `generated` for submit and "where the submission put them" for collect.
  const outputDirSet = core.getInput('output-dir') !== ''
  const outputDir = relative('output-dir') ?? (outputDirSet ? '.' : 'generated')

  const waitMinutes = decimal(core.getInput('wait-minutes') || '0', 'wait-minutes', 0, bad)
  const pollIntervalSeconds = decimal(core.getInput('poll-interval-seconds') || '120', 'poll-interval-seconds', 0.001, bad)
  const maxCostText = core.getInput('max-cost')
  // A max-cost that is not a number is one mistake: it is reported here and no budget is checked,
  // rather than checked against a made-up $0.00 that would add a second, misleading error.
  const maxCost = maxCostText ? optionalDecimal(maxCostText.replace(/^\$/, ''), 'max-cost', 0, bad) : undefined

  let prices: PriceOverrides = {}
  const pricesText = core.getInput('model-prices')
  if (pricesText) {
    try {
      prices = parsePriceOverrides(pricesText)
    } catch (error) {
      bad('model-prices', (error as Error).message)
    }
  }

  // The runner passes the default; a missing variable (a local run) means the default too.
  const lockFile = env['INPUT_LOCK-FILE'] === undefined ? DEFAULT_LOCK_FILE : relative('lock-file')
  const maxRequestsText = core.getInput('max-requests')
  const maxRequests = maxRequestsText ? integer(maxRequestsText, 'max-requests', 1, bad) : undefined

  const inputs: Inputs = {
    command,
    apiKey,
    baseURL,
    workspace,
    prompts: promptLines,
    promptsIsDefault,
    // Checked, with their file and line, by the sources that read them.
    data: core.getInput('data') || undefined,
    template: core.getInput('template') || undefined,
    requests: core.getInput('requests') || undefined,
    schemaFile: core.getInput('schema-file') || undefined,
    model,
    maxTokens,
    system,
    systemPromptFile,
    outputDir,
    outputDirSet,
    waitMinutes,
    pollIntervalSeconds,
    dryRun: boolean(core.getInput('dry-run'), false, 'dry-run', bad),
    maxCost,
    failOnError: boolean(core.getInput('fail-on-error'), true, 'fail-on-error', bad),
    prices,
    retentionDays: integer(core.getInput('retention-days') || '30', 'retention-days', 1, bad, MAX_RETENTION_DAYS),
    githubToken: core.getInput('github-token') || env.GITHUB_TOKEN || undefined,
    batchId: core.getInput('batch-id') || undefined,
    pr: {
      open: boolean(core.getInput('open-pr'), false, 'open-pr', bad),
      base: core.getInput('pr-base') || undefined,
      branch: core.getInput('pr-branch') || undefined,
      title: core.getInput('pr-title') || undefined,
      labels: core
        .getInput('pr-labels')
        .split(/[,\n]/)
        .map((l) => l.trim())
        .filter(Boolean),
      draft: boolean(core.getInput('pr-draft'), false, 'pr-draft', bad)
    },
    lockFile,
    regenerate: boolean(core.getInput('regenerate'), false, 'regenerate', bad),
    prune: boolean(core.getInput('prune'), false, 'prune', bad),
    maxRequests,
    retryFailed: integer(core.getInput('retry-failed') || '2', 'retry-failed', 0, bad),
    cache: cacheMode(core.getInput('cache'), bad)
  }
  if (inputs.githubToken) core.setSecret(inputs.githubToken)
  return { inputs, problems }
}

type Bad = (name: string, message: string) => void

function cacheMode(text: string, bad: Bad): CacheMode {
  const value = text.trim().toLowerCase() || 'auto'
  if ((CACHE_MODES as readonly string[]).includes(value)) return value as CacheMode
  bad('cache', `"${esc(text)}" is not auto or off.`)
  return 'auto'
}

function decimal(text: string, name: string, min: number, bad: Bad): number {
  return optionalDecimal(text, name, min, bad) ?? min
}

/** The number, or undefined (reported) when `text` is not one. */
function optionalDecimal(text: string, name: string, min: number, bad: Bad): number | undefined {
  const value = Number(text.trim())
  if (text.trim() === '' || !Number.isFinite(value) || value < min) {
    bad(name, `"${esc(text)}" is not a number${min > 0 ? ' above 0' : ' of 0 or more'}.`)
    return undefined
  }
  return value
}

function integer(text: string, name: string, min: number, bad: Bad, max = Infinity): number {
  const value = Number(text.trim())
  if (!Number.isInteger(value) || value < min || value > max) {
    bad(name, `"${esc(text)}" is not a whole number ${max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`}.`)
    return Math.min(Math.max(Number.isInteger(value) ? value : min, min), max)
  }
  return value
}

// The YAML 1.2 core schema's booleans, as core.getBooleanInput accepts them, but with a default.
function boolean(text: string, fallback: boolean, name: string, bad: Bad): boolean {
  const value = text.trim()
  if (!value) return fallback
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  bad(name, `"${esc(value)}" is not true or false.`)
  return fallback
}
