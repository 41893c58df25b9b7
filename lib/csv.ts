/** CSV (RFC 4180) from records, for the table and result exports. */

function cell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  // Quote what would break the row; neutralise leading formula characters for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One header line from the first record's keys (or `columns`), then one line per record. */
export function toCsv(records: Record<string, unknown>[], columns?: string[]): string {
  const keys = columns ?? (records[0] ? Object.keys(records[0]) : []);
  const lines = [keys.map(cell).join(","), ...records.map((r) => keys.map((k) => cell(r[k])).join(","))];
  return lines.join("\r\n") + "\r\n";
}
