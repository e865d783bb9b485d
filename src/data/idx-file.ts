/** IDX files on disk (Node): the header alone, read without loading or un-gzipping the whole file. */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { idxImageShape, parseIdxHeader } from './idx';

/** Enough compressed bytes for any header gzip can hold in its first block. */
const HEAD_BYTES = 4096;

function readHead(file: string, length: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buffer = new Uint8Array(length);
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** The image shape an IDX file (.gz or raw) declares in its header; throws a message naming the file. */
export function readIdxImageShape(file: string): { count: number; height: number; width: number; channels: 1 | 3 } {
  return idxImageShape(readIdxDims(file), file);
}

/** The dimensions an IDX file (.gz or raw) declares in its header, of any rank (a labels file's: [count]). */
export function readIdxDims(file: string): number[] {
  let head = readHead(file, HEAD_BYTES);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = new Uint8Array(gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }));
    } catch (error) {
      throw new Error(`${file} is gzipped but cannot be read: ${(error as Error).message}`);
    }
  }
  return parseIdxHeader(head, file).dims;
}

/** The count of labels an IDX labels file declares: it must be 1-D (one unsigned byte per image). */
export function readIdxLabelCount(file: string): number {
  const dims = readIdxDims(file);
  if (dims.length !== 1) throw new Error(`${file} holds an array of ${dims.join('×')}, not labels (a 1-D array, one byte per image)`);
  return dims[0];
}
