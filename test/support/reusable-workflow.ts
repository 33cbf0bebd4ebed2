/**
 * Runs a reusable workflow's job the way a runner would, without a runner: reads the workflow YAML,
 * takes the caller's `with:` and `secrets:`, applies the inputs' defaults, evaluates the `${{ }}`
 * expressions of the step that runs our action, runs dist/index.js with those inputs, and maps the
 * step's outputs to the job's and then the workflow's outputs exactly as the YAML says. Every
 * expression goes through a small evaluator of the GitHub expression syntax the workflow uses
 * (contexts, '…' strings, ||, &&, !, ==, startsWith, fromJSON); anything else throws, so a typo in the
 * YAML fails the test instead of passing as an empty string.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { ROOT, runAction, type ActionRun } from './run-action.js'

type Value = string | number | boolean | null | Value[] | { [key: string]: Value }
type Context = Record<string, Value>

export interface WorkflowInput {
  description?: string
  type: 'string' | 'boolean' | 'number'
  default?: Value
  required?: boolean
}

export interface ReusableWorkflow {
  on: {
    workflow_call: {
      inputs: Record<string, WorkflowInput>
      secrets: Record<string, { required?: boolean; description?: string }>
      outputs: Record<string, { value: string; description?: string }>
    }
  }
  permissions?: unknown
  jobs: Record<
    string,
    {
      'runs-on': string
      permissions?: unknown
      outputs?: Record<string, string>
      steps: Array<{ id?: string; uses?: string; with?: Record<string, Value>; env?: Record<string, string> }>
    }
  >
}

export async function readWorkflow(file: string): Promise<ReusableWorkflow> {
  return parse(await readFile(path.join(ROOT, file), 'utf8')) as ReusableWorkflow
}

/** The caller's side of `uses: …/collect.yml`: its `with:` and `secrets:`, and the job's github.token. */
export interface Caller {
  with?: Record<string, Value>
  secrets?: Record<string, string>
  githubToken: string
}

/** The `inputs` context: the caller's values, else the defaults, typed as declared; unknown or missing required ones throw. */
export function inputsContext(workflow: ReusableWorkflow, caller: Caller): Context {
  const declared = workflow.on.workflow_call.inputs
  for (const name of Object.keys(caller.with ?? {})) if (!(name in declared)) throw new Error(`Invalid input, ${name} is not defined in the referenced workflow`)
  const context: Context = {}
  for (const [name, input] of Object.entries(declared)) {
    const given = caller.with?.[name]
    if (given === undefined && input.required) throw new Error(`Input required and not supplied: ${name}`)
    const value = given ?? input.default ?? (input.type === 'boolean' ? false : input.type === 'number' ? 0 : '')
    if (input.type === 'boolean' && typeof value !== 'boolean') throw new Error(`Input ${name} must be a boolean`)
    if (input.type === 'number' && typeof value !== 'number') throw new Error(`Input ${name} must be a number`)
    if (input.type === 'string' && typeof value !== 'string') throw new Error(`Input ${name} must be a string`)
    context[name] = value
  }
  return context
}

export function secretsContext(workflow: ReusableWorkflow, caller: Caller): Context {
  const declared = workflow.on.workflow_call.secrets
  for (const name of Object.keys(caller.secrets ?? {})) if (!(name in declared)) throw new Error(`Invalid secret, ${name} is not defined in the referenced workflow`)
  for (const [name, secret] of Object.entries(declared)) if (secret.required && !caller.secrets?.[name]) throw new Error(`Secret ${name} is required, but not provided`)
  // An absent secret is an empty string in expressions.
  return Object.fromEntries(Object.keys(declared).map((name) => [name, caller.secrets?.[name] ?? '']))
}

/** The step that runs this repository's action (`uses:` naming claude-batch-action, or `./`). */
export function actionStep(workflow: ReusableWorkflow, job: string) {
  const steps = workflow.jobs[job]!.steps.filter((s) => s.uses && (/claude-batch-action(@|$)/.test(s.uses) || s.uses.startsWith('./')))
  if (steps.length !== 1) throw new Error(`Expected one step running the action in job ${job}, found ${steps.length}`)
  return steps[0]!
}

/** Substitutes every `${{ … }}` in `text`; a string that is one whole expression keeps the expression's value. */
export function interpolate(text: string, context: Context): Value {
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(text)
  if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, context)
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) => toText(evaluate(expression, context)))
}

/** How a value becomes a string in `with:`, env and outputs (booleans as true/false, null as ''). */
export function toText(value: Value): string {
  if (value === null) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/**
 * Runs the workflow's job `job` for `caller`: the action step with its `with:` evaluated, then the
 * job's and the workflow's outputs from the step's, as mapped in the YAML. `github` is the `github`
 * context (token etc.); `env` the runner's environment for the step (the fake's).
 */
export async function runReusableJob(
  workflow: ReusableWorkflow,
  job: string,
  caller: Caller,
  run: { workspace: string; env: Record<string, string>; timeoutMs?: number }
): Promise<{ step: ActionRun; inputs: Record<string, string>; jobOutputs: Record<string, string>; outputs: Record<string, string> }> {
  const context: Context = {
    inputs: inputsContext(workflow, caller),
    secrets: secretsContext(workflow, caller),
    github: { token: caller.githubToken, repository: run.env.GITHUB_REPOSITORY ?? '' }
  }
  const step = actionStep(workflow, job)
  const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([name, value]) => [name, typeof value === 'string' ? toText(interpolate(value, context)) : toText(value)]))
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, toText(interpolate(value, context))]))
  const result = await runAction({ workspace: run.workspace, inputs, env: { ...run.env, ...env }, timeoutMs: run.timeoutMs })

  const stepContext: Context = { ...context, steps: { [step.id ?? '']: { outputs: result.outputs, outcome: result.exitCode === 0 ? 'success' : 'failure' } } }
  const jobOutputs = Object.fromEntries(Object.entries(workflow.jobs[job]!.outputs ?? {}).map(([name, value]) => [name, toText(interpolate(value, stepContext))]))
  const workflowContext: Context = { ...context, jobs: { [job]: { outputs: jobOutputs, result: result.exitCode === 0 ? 'success' : 'failure' } } }
  const outputs = Object.fromEntries(Object.entries(workflow.on.workflow_call.outputs).map(([name, output]) => [name, toText(interpolate(output.value, workflowContext))]))
  return { step: result, inputs, jobOutputs, outputs }
}

// ---------------------------------------------------------------------------------------------------------------
// A small evaluator of GitHub's expression syntax

type Token = { kind: 'op'; value: string } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'word'; value: string }

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "'") {
      let value = ''
      i++
      for (;;) {
        if (i >= source.length) throw new Error(`Unterminated string in expression: ${source}`)
        if (source[i] === "'" && source[i + 1] === "'") {
          value += "'"
          i += 2
        } else if (source[i] === "'") {
          i++
          break
        } else value += source[i++]
      }
      tokens.push({ kind: 'string', value })
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9.]+/.exec(source.slice(i))![0]
      tokens.push({ kind: 'number', value: Number(m) })
      i += m.length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i))![0]
      tokens.push({ kind: 'word', value: m })
      i += m.length
    } else {
      const op = ['&&', '||', '==', '!='].find((o) => source.startsWith(o, i)) ?? c
      if (!['&&', '||', '==', '!=', '!', '(', ')', '.', ',', '[', ']'].includes(op)) throw new Error(`Unexpected "${op}" in expression: ${source}`)
      tokens.push({ kind: 'op', value: op })
      i += op.length
    }
  }
  return tokens
}

const truthy = (v: Value): boolean => !(v === false || v === null || v === '' || v === 0)

export function evaluate(source: string, context: Context): Value {
  const tokens = tokenize(source)
  let at = 0
  // Above 0 while parsing the side of || or && that is not evaluated (GitHub short-circuits).
  let skipping = 0
  const peek = (value: string) => tokens[at]?.kind === 'op' && tokens[at]!.value === value
  const expect = (value: string) => {
    if (!peek(value)) throw new Error(`Expected "${value}" in expression: ${source}`)
    at++
  }
  const or = (): Value => {
    let left = and()
    while (peek('||')) {
      at++
      const short = truthy(left)
      if (short) skipping++
      const right = and()
      if (short) skipping--
      left = short ? left : right
    }
    return left
  }
  const and = (): Value => {
    let left = equality()
    while (peek('&&')) {
      at++
      const short = !truthy(left)
      if (short) skipping++
      const right = equality()
      if (short) skipping--
      left = short ? left : right
    }
    return left
  }
  const equality = (): Value => {
    let left = unary()
    while (peek('==') || peek('!=')) {
      const op = tokens[at++]!.value
      const right = unary()
      left = op === '==' ? left === right : left !== right
    }
    return left
  }
  const unary = (): Value => {
    if (peek('!')) {
      at++
      return !truthy(unary())
    }
    return primary()
  }
  const primary = (): Value => {
    const token = tokens[at++]
    if (!token) throw new Error(`Unexpected end of expression: ${source}`)
    if (token.kind === 'string' || token.kind === 'number') return token.value
    if (token.kind === 'op' && token.value === '(') {
      const value = or()
      expect(')')
      return value
    }
    if (token.kind !== 'word') throw new Error(`Unexpected "${token.value}" in expression: ${source}`)
    if (token.value === 'true' || token.value === 'false') return token.value === 'true'
    if (token.value === 'null') return null
    if (peek('(')) {
      at++
      const args: Value[] = []
      while (!peek(')')) {
        args.push(or())
        if (peek(',')) at++
      }
      at++
      return skipping ? null : call(token.value, args)
    }
    if (!(token.value in context)) throw new Error(`Unrecognized named-value: '${token.value}' in expression: ${source}`)
    let value: Value = context[token.value]!
    let parent = token.value
    while (peek('.')) {
      at++
      const name = tokens[at++]
      if (name?.kind !== 'word') throw new Error(`Expected a property name in expression: ${source}`)
      if (skipping) continue
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name.value} is read from a non-object (expression: ${source})`)
      if (!(name.value in value)) {
        // An output a step did not set is null, as on GitHub; any other unknown name is a mistake in the YAML.
        if (parent === 'outputs') return null
        throw new Error(`${name.value} is not defined here (expression: ${source})`)
      }
      value = (value as Record<string, Value>)[name.value]!
      parent = name.value
    }
    return value
  }
  const call = (name: string, args: Value[]): Value => {
    if (name === 'startsWith') return toText(args[0]!).toLowerCase().startsWith(toText(args[1]!).toLowerCase())
    if (name === 'fromJSON') return JSON.parse(toText(args[0]!)) as Value
    if (name === 'toJSON') return JSON.stringify(args[0])
    throw new Error(`Unknown function ${name} in expression: ${source}`)
  }
  const value = or()
  if (at !== tokens.length) throw new Error(`Unexpected "${String(tokens[at]!.value)}" in expression: ${source}`)
  return value
}
