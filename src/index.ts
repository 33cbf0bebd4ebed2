// The action's entry point. The logic lives in main.ts, which @github/local-action also runs directly.
import { run } from './main.js'

await run()
