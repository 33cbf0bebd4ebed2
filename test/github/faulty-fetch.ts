/**
 * Faults for in-process clients, injected where octokit (and downloadManifest) call `fetch`: the n-th
 * matching call gets a status, a hang, a dropped connection, an answer lost after the work was done,
 * an HTML page with status 200, or a body cut short. The GitHub fake does the real work behind it.
 */
export type Fault = { kind: 'status'; status: number } | { kind: 'html' } | { kind: 'drop' } | { kind: 'lost' } | { kind: 'hang' } | { kind: 'cut' }

export interface FaultRule {
  method?: string
  /** Matched against the URL's path and query. */
  path: RegExp
  fault: Fault
  /** Matching calls to let through first (default 0). */
  skip?: number
  /** How many matching calls get the fault (default 1). */
  times?: number
}

export interface FaultyFetch {
  fetch: typeof fetch
  /** Every call as `METHOD path`, faulted or not. */
  calls: string[]
  /** Calls that got a fault. */
  faulted: string[]
}

export function faultyFetch(rules: FaultRule[]): FaultyFetch {
  const seen = new Map<FaultRule, number>()
  const calls: string[] = []
  const faulted: string[] = []
  const faulty = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    const method = (init?.method ?? 'GET').toUpperCase()
    const call = `${method} ${url.pathname}${url.search}`
    calls.push(call)
    // Each rule counts its own matching calls; the first whose window the call falls in applies.
    let hit: FaultRule | undefined
    for (const rule of rules) {
      if ((rule.method && rule.method !== method) || !rule.path.test(url.pathname + url.search)) continue
      const n = seen.get(rule) ?? 0
      seen.set(rule, n + 1)
      const skip = rule.skip ?? 0
      if (!hit && n >= skip && n < skip + (rule.times ?? 1)) hit = rule
    }
    if (hit) {
      faulted.push(call)
      return inject(hit.fault, input, init)
    }
    return fetch(input, init)
  }
  return { fetch: faulty as typeof fetch, calls, faulted }
}

async function inject(fault: Fault, input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  switch (fault.kind) {
    case 'status':
      return new Response(JSON.stringify({ message: `Injected ${fault.status}` }), { status: fault.status, headers: { 'content-type': 'application/json' } })
    case 'html':
      return new Response('<html><body>Unicorn! We are having trouble</body></html>', { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } })
    case 'drop':
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })
    case 'lost': {
      // The server does the work; its answer never arrives.
      const response = await fetch(input, init)
      await response.arrayBuffer()
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })
    }
    case 'hang':
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject((init.signal!.reason as Error | undefined) ?? new DOMException('aborted', 'AbortError')))
      })
    case 'cut': {
      const response = await fetch(input, init)
      const bytes = Buffer.from(await response.arrayBuffer())
      const headers = new Headers(response.headers)
      headers.delete('content-length')
      return new Response(bytes.subarray(0, Math.floor(bytes.length / 2)), { status: response.status, headers })
    }
  }
}
