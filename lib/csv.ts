/** CSV (RFC 4180) from records: every export (runs table, run page, comparison) writes through this one. */

function cell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  // Quote what would break the row; neutralise leading formula characters for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export interface CsvOptions {
  /** The columns, in order (default: the first record's keys). */
  columns?: readonly string[];
  /** The line ending (default "\r\n", as RFC 4180 writes it; the run page's exports use "\n"). */
  newline?: string;
}

/** One header line from the columns, then one line per record; an empty cell is a missing value. */
export function toCsv(records: readonly object[], { columns, newline = "\r\n" }: CsvOptions = {}): string {
  const keys = columns ?? (records[0] ? Object.keys(records[0]) : []);
  const rows = records as readonly Record<string, unknown>[];
  const lines = [keys.map(cell).join(","), ...rows.map((r) => keys.map((k) => cell(r[k])).join(","))];
  return lines.join(newline) + newline;
}
