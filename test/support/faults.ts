/**
 * One fault vocabulary for both local stand-ins (the Batch API simulator and the GitHub fake), so a fault matrix
 * can say "the 3rd call to X hangs" the same way whichever service X belongs to. Each stand-in decides what a kind
 * means for its own protocol (error body shapes, what "the work" is); this module only describes faults and picks
 * the one that applies to a call. Nothing here may import the action's src/: the stand-ins are independent of
 * the code they test.
 *
 *   stand.injectFault({ method: 'POST', path: '/v1/messages/batches', after: 2, kind: 'hang' })
 *   // the first two creates go through, the third is read and never answered
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** Which calls a fault applies to, and how many of them. */
export interface FaultMatch {
  /** HTTP method, any case; omitted = every method. */
  method?: string
  /** A string must equal the URL path (no query); a RegExp is tested against path + query. */
  path: string | RegExp
  /**
   * Let this many matching calls through first (default 0), so the fault hits call number `after + 1`. Counted
   * from when the fault was injected, over every call it matches, including calls another fault took.
   */
  after?: number
  /** How many matching calls the fault hits once armed (default 1); `Infinity` = every one from then on. */
  times?: number
}

/** What happens to a call the fault hits. */
export type FaultKind =
  /** The service fails without doing anything: answer `status` in the service's own error envelope. */
  | { kind: 'status'; status: number; errorType?: string; message?: string; headers?: Record<string, string> }
  /** Read the request, never answer, until the client gives up or the stand-in closes. Nothing is done. */
  | { kind: 'hang' }
  /**
   * Do the work (the batch, artifact, commit or ref really exists), then drop the connection, or answer `status`
   * instead of the real answer. The client cannot tell that its call took effect.
   */
  | { kind: 'lose-answer'; status?: number }
  /**
   * Do NOT do the work; answer 200 with a body the client does not expect. Default: an HTML page as a proxy or
   * captive portal would send (`content-type: text/html`). Pass e.g. `body: TRUNCATED_JSON, contentType:
   * 'application/json'` for a body that claims to be JSON and does not parse.
   */
  | { kind: 'garble'; body?: string; contentType?: string }
  /** Wait `ms`, then answer normally (the work is done after the wait, as a slow service would). */
  | { kind: 'delay'; ms: number }
  /**
   * Do the work and start the answer, then close the connection midway: after `afterLines` lines of a line-based
   * body (results JSONL), or after `afterBytes` bytes of any other body (default: half of it).
   */
  | { kind: 'cut-stream'; afterLines?: number; afterBytes?: number }

export type Fault = FaultMatch & FaultKind

/** The default garbled body: what a proxy's error page looks like to a JSON client. */
export const HTML_PAGE = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n'

/** A body that claims to be JSON and stops mid-string (JSON.parse: "Unterminated string in JSON"). */
export const TRUNCATED_JSON = '{"id":"msgbatch_01Trunc'

/** The body and content type a garble fault answers with. */
export function garbledBody(fault: Fault & { kind: 'garble' }): { body: Buffer; contentType: string } {
  return { body: Buffer.from(fault.body ?? HTML_PAGE), contentType: fault.contentType ?? 'text/html' }
}

export function faultMatches(fault: FaultMatch, method: string, url: URL): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false
  if (typeof fault.path === 'string') return fault.path === url.pathname
  fault.path.lastIndex = 0 // a /g or /y RegExp would otherwise remember where it stopped
  return fault.path.test(url.pathname + url.search)
}

interface Entry {
  fault: Fault
  /** Matching calls seen since injection. */
  seen: number
  /** Calls still to hit once armed. */
  remaining: number
}

/**
 * The faults injected into one stand-in, in injection order. Every call is counted by every fault it matches
 * (that is what `after` counts); the first armed one takes it.
 */
export class FaultQueue {
  private readonly entries: Entry[] = []

  add(fault: Fault): void {
    const after = fault.after ?? 0
    const times = fault.times ?? 1
    if (!(Number.isInteger(after) && after >= 0)) throw new RangeError(`fault.after must be an integer >= 0, got ${after}`)
    if (!(times >= 1 && (Number.isInteger(times) || times === Infinity))) {
      throw new RangeError(`fault.times must be an integer >= 1 or Infinity, got ${times}`)
    }
    this.entries.push({ fault, seen: 0, remaining: times })
  }

  /** The fault that hits this call, if any; consumes one of its `times`. */
  take(method: string, url: URL): Fault | undefined {
    let hit: Entry | undefined
    for (const entry of this.entries) {
      if (!faultMatches(entry.fault, method, url)) continue
      entry.seen++
      if (!hit && entry.seen > (entry.fault.after ?? 0)) hit = entry
    }
    if (!hit) return undefined
    if (--hit.remaining <= 0) this.entries.splice(this.entries.indexOf(hit), 1)
    return hit.fault
  }

  /** Faults not yet used up (e.g. to assert that a fault really fired). */
  get pending(): number {
    return this.entries.length
  }

  clear(): void {
    this.entries.length = 0
  }
}

/**
 * Holds answers a `hang` or `delay` fault keeps open, so that closing the stand-in ends them at once: hung
 * clients see their connection close, and no timer outlives the stand-in (jest exits cleanly).
 */
export class FaultLifetime {
  private readonly controller = new AbortController()

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Waits `ms`; resolves `true` if the stand-in closed first (then nothing more should be sent). */
  wait(ms: number): Promise<boolean> {
    return sleep(ms, false, { signal: this.controller.signal }).catch(() => true)
  }

  /** Resolves when the stand-in closes: what a hung answer waits for. */
  closed(): Promise<void> {
    if (this.controller.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => this.controller.signal.addEventListener('abort', () => resolve(), { once: true }))
  }

  close(): void {
    this.controller.abort()
  }
}
