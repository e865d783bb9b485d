/**
 * The IDX format of the MNIST files (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number
 * of dimensions, then each dimension as a 32-bit integer, then the values. Pure: the caller un-gzips.
 */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4) throw new Error(`${name} is too short to be an IDX file (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${name} is not an IDX file (it does not start with two zero bytes)`);
  if (bytes[2] !== UNSIGNED_BYTE) throw new Error(`${name} holds IDX type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are supported`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new Error(`${name} ends inside its header`);
  const dims = Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k));
  const size = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length - start !== size) {
    throw new Error(`${name} declares ${dims.join('×')} = ${size} values but holds ${bytes.length - start}`);
  }
  return { dims, data: bytes.subarray(start) };
}

export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE;
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
