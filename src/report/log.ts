import * as core from '@actions/core'
import { esc, safeLine } from './escape.js'

/**
 * The one way to write a plain log line. `core.info` writes its text raw, so a file name holding a
 * line break could start a line of its own, such as `::warning::…`, which the runner would obey.
 * `info` writes exactly one line, whatever the text holds; for several lines, call it once for each.
 * (Annotations, `core.warning`/`error`/`notice`/`setFailed`/`debug` and group titles are escaped by
 * @actions/core itself.)
 */
export function info(text: string): void {
  core.info(safeLine(text))
}

export { esc }
