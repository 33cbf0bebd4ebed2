/**
 * Links from the job summary to what outlives the job: a source file at the commit that ran, and the
 * run's artifacts. Built only from the runner's own variables (GITHUB_SERVER_URL, GITHUB_REPOSITORY,
 * GITHUB_SHA, GITHUB_RUN_ID); without them (a local run) there is no link, only the text.
 */
import { escape } from './html.js'

function server(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.GITHUB_SERVER_URL?.replace(/\/+$/, '')
  return url && /^https?:\/\//.test(url) ? url : undefined
}

function repository(env: NodeJS.ProcessEnv): string | undefined {
  const repo = env.GITHUB_REPOSITORY
  return repo && /^[\w.-]+\/[\w.-]+$/.test(repo) ? repo : undefined
}

/** `<server>/<repo>/blob/<sha>/<path>#L<line>`, each path segment URL-encoded; undefined outside a workflow run. */
export function sourceUrl(file: string, line?: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = server(env)
  const repo = repository(env)
  const sha = env.GITHUB_SHA
  if (!base || !repo || !sha || !/^[0-9a-f]{7,64}$/i.test(sha)) return undefined
  const encoded = file.split('/').map(encodeURIComponent).join('/')
  return `${base}/${repo}/blob/${sha}/${encoded}${line ? `#L${line}` : ''}`
}

/** `file:line` as code, linked to that line at the commit when the run's variables allow. */
export function sourceLink(file: string | undefined, line?: number, env: NodeJS.ProcessEnv = process.env): string {
  if (!file) return ''
  const text = `<code>${escape(line ? `${file}:${line}` : file)}</code>`
  const url = sourceUrl(file, line, env)
  return url ? `<a href="${escape(url)}">${text}</a>` : text
}

/** The run's page, at its artifacts; or one artifact's download page when its id is known. */
export function artifactUrl(artifactId?: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = server(env)
  const repo = repository(env)
  const run = env.GITHUB_RUN_ID
  if (!base || !repo || !run || !/^\d+$/.test(run)) return undefined
  return artifactId ? `${base}/${repo}/actions/runs/${run}/artifacts/${artifactId}` : `${base}/${repo}/actions/runs/${run}#artifacts`
}

/** An artifact's name, linked to it (or to the run's artifacts) when the run's variables allow. */
export function artifactLink(name: string, artifactId?: number, env: NodeJS.ProcessEnv = process.env): string {
  const text = `<code>${escape(name)}</code>`
  const url = artifactUrl(artifactId, env)
  return url ? `<a href="${escape(url)}">${text}</a>` : text
}
