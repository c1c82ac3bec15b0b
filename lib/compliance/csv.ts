// CSV evidence, streamed: rows are encoded as they come, so an export of 100k rows holds one row in memory.
// Cells are RFC 4180-quoted and neutralised against formula injection (a spreadsheet must show, not run, them).

export type CsvValue = string | number | boolean | Date | null | undefined | readonly string[];

/** Characters a spreadsheet treats as the start of a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: lists joined with "; ", dates in ISO 8601, formulas defused with a leading apostrophe, then quoted. */
export function csvCell(value: CsvValue): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (value instanceof Date) text = value.toISOString();
  else if (Array.isArray(value)) text = value.join("; ");
  else text = String(value);
  // Numbers are data, not formulas: "-3" from a number stays a number.
  if (typeof value !== "number" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => CsvValue;
}

/** Streams a header line and one line per row, pulling rows only as fast as the reader consumes them. */
export function csvStream<Row>(columns: readonly CsvColumn<Row>[], rows: AsyncIterable<Row>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvLine(columns.map((c) => c.header))));
        return;
      }
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(csvLine(columns.map((c) => c.value(next.value)))));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
