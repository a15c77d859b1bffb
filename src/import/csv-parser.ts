// An incremental RFC 4180 CSV tokenizer that knows the line every record starts on.
// Chunks may split anywhere (inside quotes, between CR and LF); records may span lines inside quotes.
// CRLF, LF and CR all end a record, mixed in one file too; blank lines are skipped. A malformed record
// (text after a closing quote, a record over the size cap) is reported as an error row and parsing
// resumes at the next line, so one bad row never costs the rest of the file.

export type CsvRow = { line: number; fields: string[] } | { line: number; error: string; text: string }

/** A record longer than this is reported, not buffered: memory stays bounded whatever the file holds. */
export const MAX_RECORD_CHARS = 1_048_576
/** How much of a malformed record's text is kept for the report. */
const ERROR_TEXT_CHARS = 1_000

type State = 'field' | 'unquoted' | 'quoted' | 'quote' | 'skip'

export class CsvParser {
  private state: State = 'field'
  private fields: string[] = []
  private field = ''
  private line = 1
  private recordLine = 1
  private recordChars = 0
  private inRecord = false
  private afterCR = false
  private first = true
  private error = ''
  private text = ''

  constructor(private readonly maxRecordChars = MAX_RECORD_CHARS) {}

  /** Feeds a chunk; returns the records it completed. */
  push(chunk: string): CsvRow[] {
    const rows: CsvRow[] = []
    let input = chunk
    if (this.first && input.length > 0) {
      this.first = false
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1)
    }
    for (let i = 0; i < input.length; i++) {
      const c = input.charAt(i)
      if (this.afterCR) {
        this.afterCR = false
        if (c === '\n') {
          // the LF of a CRLF: the line was counted at the CR
          if (this.state === 'quoted') this.field += c
          if (this.inRecord && this.text.length < ERROR_TEXT_CHARS) this.text += c
          continue
        }
      }
      const newline = c === '\n' || c === '\r'
      if (!this.inRecord) {
        if (newline) {
          this.lineBreak(c)
          continue
        }
        this.inRecord = true
        this.recordLine = this.line
      }
      if (this.state !== 'skip' && ++this.recordChars > this.maxRecordChars) {
        this.fail(`record is longer than ${this.maxRecordChars} characters (an unclosed quote?)`)
      }
      if (this.text.length < ERROR_TEXT_CHARS) this.text += c
      this.step(c, newline, rows)
    }
    return rows
  }

  /** Ends the input; returns the last record if the file does not end with a line break. */
  end(): CsvRow[] {
    const rows: CsvRow[] = []
    if (!this.inRecord) return rows
    if (this.state === 'quoted') this.fail(`quote opened on line ${this.recordLine} is never closed`)
    if (this.state !== 'skip') this.fields.push(this.field)
    this.emit(rows)
    return rows
  }

  private step(c: string, newline: boolean, rows: CsvRow[]): void {
    switch (this.state) {
      case 'field':
        if (c === '"') this.state = 'quoted'
        else if (c === ',') this.fields.push('')
        else if (newline) this.endRecord(c, rows)
        else {
          this.field = c
          this.state = 'unquoted'
        }
        return
      case 'unquoted':
        if (c === ',') this.endField()
        else if (newline) this.endRecord(c, rows)
        else this.field += c // a bare quote inside an unquoted field is kept as text, as most writers expect
        return
      case 'quoted':
        if (c === '"') this.state = 'quote'
        else this.take(c)
        return
      case 'quote':
        if (c === '"') {
          this.field += c
          this.state = 'quoted'
        } else if (c === ',') this.endField()
        else if (newline) this.endRecord(c, rows)
        else this.fail(`unexpected ${JSON.stringify(c)} after a closing quote`)
        return
      case 'skip':
        if (newline) {
          this.lineBreak(c)
          this.emit(rows)
        }
    }
  }

  /** A character inside quotes, line breaks included (they count as lines of the file). */
  private take(c: string): void {
    this.field += c
    if (c === '\n' || c === '\r') this.lineBreak(c)
  }

  private lineBreak(c: string): void {
    this.line++
    if (c === '\r') this.afterCR = true
  }

  private fail(message: string): void {
    this.error = message
    this.state = 'skip'
  }

  private endField(): void {
    this.fields.push(this.field)
    this.field = ''
    this.state = 'field'
  }

  private endRecord(c: string, rows: CsvRow[]): void {
    this.fields.push(this.field)
    this.lineBreak(c)
    this.emit(rows)
  }

  private emit(rows: CsvRow[]): void {
    if (this.error) rows.push({ line: this.recordLine, error: this.error, text: this.text.replace(/[\r\n]+$/, '') })
    else rows.push({ line: this.recordLine, fields: this.fields })
    this.fields = []
    this.field = ''
    this.error = ''
    this.text = ''
    this.state = 'field'
    this.recordChars = 0
    this.inRecord = false
  }
}
