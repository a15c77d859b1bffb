// timestamptz read from PostgreSQL as the ISO-8601 text the API shows, without a Date in between.

const SPACE = 32
const PLUS = 43
const DASH = 45
const DOT = 46
const ZERO = 48
/** `YYYY-MM-DD HH:MM:SS`: what comes before the fraction. */
const SECONDS_END = 19

/**
 * The driver's parser for timestamptz. In a UTC session PostgreSQL writes `2026-12-03 16:31:03.123456+00`
 * (the fraction 0 to 6 digits, trailing zeros dropped); this rewrites it as Date.prototype.toISOString
 * would (milliseconds, further digits cut as a Date cuts them), which is the form SQLite stores. Parsing
 * into a Date and printing it again cost a tenth of a 50-row page's CPU; character checks and slices
 * allocate less than a regular expression's match. Anything else (another session time zone, infinity,
 * a year past 9999 or BC) is parsed into a Date as the driver would.
 */
export function timestamptzFromText(text: string): string | Date {
  const offset = text.length - 3
  const utc =
    offset >= SECONDS_END &&
    offset <= SECONDS_END + 7 &&
    text.charCodeAt(4) === DASH &&
    text.charCodeAt(10) === SPACE &&
    text.charCodeAt(offset) === PLUS &&
    text.charCodeAt(offset + 1) === ZERO &&
    text.charCodeAt(offset + 2) === ZERO &&
    (offset === SECONDS_END || (offset > SECONDS_END + 1 && text.charCodeAt(SECONDS_END) === DOT))
  if (!utc) return new Date(text)
  const digits = offset - SECONDS_END - 1
  const fraction =
    digits >= 3 ? text.slice(SECONDS_END, SECONDS_END + 4) : digits > 0 ? text.slice(SECONDS_END, offset) + '00'.slice(digits - 1) : '.000'
  return `${text.slice(0, 10)}T${text.slice(11, SECONDS_END)}${fraction}Z`
}
