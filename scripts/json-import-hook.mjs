// @actions/languageservice imports its JSON schema without `with { type: 'json' }`, which Node
// refuses; this loader hook adds the attribute for .json files. Registered by json-import.mjs.
export async function load(url, context, next) {
  if (url.endsWith('.json')) return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } })
  return next(url, context)
}
