/** The bits of HTML the job summary is made of: escaped text, and tables that fold when long. */

/** Escapes text for HTML, in element content and in double-quoted attributes alike. */
/**
 * Escapes text for the HTML the job summary is made of. Line breaks too: the summary is Markdown, where
 * a blank line ends an HTML block and what follows (a link, an image, a heading) would be rendered.
 */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;')
}

// A table longer than this is folded in <details>: the summary stays readable, and its rows are one click away.
export const FOLD_ROWS = 20

/**
 * A table; cells are HTML already (escape text first). Over FOLD_ROWS body rows it is folded in
 * <details> under `label` (which says what it holds and how many).
 */
export function table(head: readonly string[], rows: readonly (readonly string[])[], label: string): string {
  const tr = (cells: readonly string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`
  const html = `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`
  return rows.length > FOLD_ROWS ? details(label, html) : html
}

/** A fold, closed by default; `label` is text (escaped here), `content` is HTML. */
export function details(label: string, content: string): string {
  return `<details><summary>${escape(label)}</summary>\n\n${content}\n\n</details>`
}
