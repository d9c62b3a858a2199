/** A value of one CSV cell. */
export type CsvValue = string | number | boolean | null | undefined;

// A cell a spreadsheet would read as a formula (=, +, -, @, or a tab/CR that hides one)
// runs it when the file is opened: such cells are written as text by a leading apostrophe.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: RFC 4180 quoting, formulas neutralised, numbers and booleans as written. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 asks. */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
