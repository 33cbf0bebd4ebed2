// TEMPORARY stand-in; replaced by the real module from branch h/escape.
import * as core from '@actions/core'
export const log = { info: (t: string) => core.info(t), warning: (t: string) => core.warning(t) }
