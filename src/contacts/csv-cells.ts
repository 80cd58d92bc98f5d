/**
 * CSV cells that a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
 * return is a formula to Excel, LibreOffice and Google Sheets (`=HYPERLINK(…)`, `@SUM(…)`, `+cmd|…`), so it is
 * written with a leading apostrophe, as OWASP's "CSV Injection" page advises. Plain numbers (`+14155550100`,
 * `-3`, `2.5`) are left alone: they evaluate to themselves, and E.164 numbers stay as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

export function safeCsvCell(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** A row (object or array) with every string cell made safe; other values are left as they are. */
export function safeCsvRow<T extends object>(row: T): T {
  const fix = (v: unknown) => (typeof v === 'string' ? safeCsvCell(v) : v);
  if (Array.isArray(row)) return row.map(fix) as T;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, fix(v)])) as T;
}
