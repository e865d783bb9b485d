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
  let head = readHead(file, HEAD_BYTES);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      // A sync flush lets zlib return what the first few kilobytes decompress to, without the rest of the stream.
      head = new Uint8Array(gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }));
    } catch (error) {
      throw new Error(`${file} is gzipped but cannot be read: ${(error as Error).message}`);
    }
  }
  return idxImageShape(parseIdxHeader(head, file).dims, file);
}
