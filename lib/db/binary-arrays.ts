// One-dimensional Postgres arrays in the binary wire format, for bulk statements' parameters: node-postgres sends
// a Buffer as a binary parameter, and the statement's cast (`$2::int8[]`) tells the server how to read it. Unlike
// a text array literal, nothing is escaped on our side or parsed on the server's: at hundreds of thousands of
// values per statement, that is most of what passing them costs.

const HEADER_BYTES = 20;
const ELEMENT_TYPE = { bool: 16, int8: 20, int4: 23, text: 25 } as const;

function encode(
  elementType: number,
  count: number,
  dataBytes: number,
  write: (out: Buffer, offset: number, index: number) => number,
): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 4 * count + dataBytes);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no nulls
  out.writeInt32BE(elementType, 8);
  out.writeInt32BE(count, 12);
  out.writeInt32BE(1, 16); // lower bound
  let offset = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const length = write(out, offset + 4, i);
    out.writeInt32BE(length, offset);
    offset += 4 + length;
  }
  return out;
}

export const int4Array = (values: ArrayLike<number>): Buffer =>
  encode(
    ELEMENT_TYPE.int4,
    values.length,
    4 * values.length,
    (out, at, i) => out.writeInt32BE(values[i], at) - at,
  );

export const int8Array = (values: BigInt64Array): Buffer =>
  encode(
    ELEMENT_TYPE.int8,
    values.length,
    8 * values.length,
    (out, at, i) => out.writeBigInt64BE(values[i], at) - at,
  );

/** Epoch milliseconds (or any integers up to 2^53) as int8[]. */
export const int8ArrayOfNumbers = (values: ArrayLike<number>): Buffer =>
  encode(ELEMENT_TYPE.int8, values.length, 8 * values.length, (out, at, i) => {
    const value = values[i];
    out.writeInt32BE(Math.floor(value / 2 ** 32), at);
    out.writeUInt32BE(value >>> 0, at + 4);
    return 8;
  });

export const boolArray = (values: ArrayLike<boolean>): Buffer =>
  encode(
    ELEMENT_TYPE.bool,
    values.length,
    values.length,
    (out, at, i) => out.writeUInt8(values[i] ? 1 : 0, at) - at,
  );

/** Strings as text[]; Postgres text holds no NUL, which callers must have replaced. */
export function textArray(values: readonly string[]): Buffer {
  let bytes = 0;
  for (const value of values) bytes += Buffer.byteLength(value);
  return encode(ELEMENT_TYPE.text, values.length, bytes, (out, at, i) => out.write(values[i], at));
}
