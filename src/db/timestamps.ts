// timestamptz read from PostgreSQL as the ISO-8601 text the API shows, without a Date in between.

/** What PostgreSQL writes for a timestamptz in a UTC session: `2026-12-03 16:31:03.123456+00`. */
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/

/**
 * The driver's parser for timestamptz: the text PostgreSQL sends, rewritten as Date.prototype.toISOString
 * would write it (UTC, milliseconds, fractions past them cut as a Date cuts them), which is the form SQLite
 * stores. Parsing into a Date and printing it again cost a tenth of a 50-row page's CPU. Anything else
 * (another session time zone, infinity, a year past 9999) is parsed into a Date as the driver would.
 */
export function timestamptzFromText(text: string): string | Date {
  const match = UTC_TEXT.exec(text)
  if (!match) return new Date(text)
  const fraction = (match[3] ?? '').padEnd(3, '0').slice(0, 3)
  return `${match[1]}T${match[2]}.${fraction}Z`
}
