// ESLint's flat config. The rules, and typescript-eslint with the typescript 6 it needs, live in the
// tools/lint workspace: see the comment at the top of tools/lint/eslint.config.js.
export { default } from './tools/lint/eslint.config.js'
