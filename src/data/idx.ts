/**
 * The IDX format of the MNIST files (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number
 * of dimensions, then each dimension as a 32-bit integer, then the values. Pure: the caller un-gzips.
 */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** The dimensions from an IDX header and where the values start; `bytes` may be only the file's beginning. */
export function parseIdxHeader(bytes: Uint8Array, name = 'IDX file'): { dims: number[]; start: number } {
  if (bytes.length < 4) throw new Error(`${name} is too short to be an IDX file (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${name} is not an IDX file (it does not start with two zero bytes)`);
  if (bytes[2] !== UNSIGNED_BYTE) throw new Error(`${name} holds IDX type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are supported`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new Error(`${name} ends inside its header`);
  return { dims: Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k)), start: 4 + 4 * rank };
}

export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  const { dims, start } = parseIdxHeader(bytes, name);
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== size) {
    throw new Error(`${name} declares ${dims.join('×')} = ${size} values but holds ${bytes.length - start}`);
  }
  return { dims, data: bytes.subarray(start) };
}

/** The image shape an IDX array's dimensions describe: count × height × width (× 1 or 3 channels). */
export function idxImageShape(dims: readonly number[], name = 'IDX file'): { count: number; height: number; width: number; channels: 1 | 3 } {
  if (dims.length !== 3 && !(dims.length === 4 && (dims[3] === 1 || dims[3] === 3))) {
    throw new Error(`${name} holds an array of ${dims.join('×')}: images need count × height × width (× 1 or 3 channels)`);
  }
  return { count: dims[0], height: dims[1], width: dims[2], channels: dims[3] === 3 ? 3 : 1 };
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
