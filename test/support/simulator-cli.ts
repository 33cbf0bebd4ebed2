/**
 * Runs the Batch API simulator as a standalone server, for demos and manual runs of the action:
 *
 *   npm run simulator -- --port 8787 --processing-ms 5000 --api-key sk-ant-api03-demo
 *
 * It stays up until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { BatchSimulator, DEFAULT_API_KEY } from './simulator.js'

const USAGE = `Usage: simulator-cli [--port N] [--processing-ms N] [--api-key KEY]...
  --port N            port on 127.0.0.1 (default 8787; 0 = any free port)
  --processing-ms N   time from create to ended (default 5000)
  --api-key KEY       accepted API key, repeatable (default ${DEFAULT_API_KEY})`

interface CliOptions {
  port: number
  processingMs: number
  apiKeys: string[]
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8787' },
      'processing-ms': { type: 'string', default: '5000' },
      'api-key': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  return {
    port: nonNegativeInteger('--port', values.port),
    processingMs: nonNegativeInteger('--processing-ms', values['processing-ms']),
    apiKeys: values['api-key'] ?? [DEFAULT_API_KEY]
  }
}

function nonNegativeInteger(flag: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} must be a non-negative integer, got "${raw}"`)
  return value
}

async function main(): Promise<void> {
  let options: CliOptions
  try {
    options = parseCli(process.argv.slice(2))
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  const simulator = await BatchSimulator.start(options)
  console.log(`Batch API simulator listening on ${simulator.url}`)
  console.log(`Use it with: ANTHROPIC_BASE_URL=${simulator.url} ANTHROPIC_API_KEY=${options.apiKeys[0]}`)
  console.log(`Batches end ${options.processingMs} ms after creation. Stop with Ctrl+C.`)

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`\n${signal}: stopping the simulator (${simulator.calls.length} calls served).`)
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      }
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main()
