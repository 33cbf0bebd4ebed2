/**
 * Paths, in one place: where the action may read (`workspace.ts`), where it may write
 * (`output.ts`), and its own temporary files (`temp.ts`).
 */
export * from './workspace.js'
export * from './output.js'
export * from './temp.js'
