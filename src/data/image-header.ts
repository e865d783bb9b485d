/**
 * The pixel size of a PNG or JPEG file, read from its header (PNG's IHDR, JPEG's start-of-frame) without decoding
 * it: a folder dataset skips images too large to decode safely before any memory is spent on them. Node only.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The largest image a folder dataset decodes: 4096×4096 (16.8 megapixels, 64 MiB as RGBA) — a phone photo
 *  (12 megapixels) still loads, a 16000×16000 PNG (1 GiB as RGBA, 29 s to decode) is skipped. */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): not DHT (C4), JPG (C8), DAC (CC). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** The image's size from its header; throws a short reason when the file is neither a PNG nor a JPEG with one. */
export function readImageSize(file: string): ImageSize {
  const fd = openSync(file, 'r');
  try {
    const read = (position: number, length: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      return bytes.subarray(0, readSync(fd, bytes, 0, length, position));
    };
    const head = read(0, 24);
    if (PNG_SIGNATURE.every((b, k) => head[k] === b)) {
      if (head.length < 24 || String.fromCharCode(...head.subarray(12, 16)) !== 'IHDR') throw new Error('a PNG without its IHDR header');
      const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
      return { width: view.getUint32(16), height: view.getUint32(20) };
    }
    if (head[0] === 0xff && head[1] === 0xd8) return jpegSize(read);
    throw new Error('not a PNG or JPEG file');
  } finally {
    closeSync(fd);
  }
}

/** Walk the JPEG's marker segments up to its start-of-frame. */
function jpegSize(read: (position: number, length: number) => Uint8Array): ImageSize {
  let at = 2;
  for (let segments = 0; segments < 4096; segments++) {
    const marker = read(at, 4);
    if (marker.length < 4 || marker[0] !== 0xff) break;
    if (marker[1] === 0xff) {
      at += 1; // a fill byte before the marker
      continue;
    }
    if (marker[1] === 0xd9 || marker[1] === 0xda) break; // end of image, or the image data before any frame header
    const length = (marker[2] << 8) | marker[3];
    if (SOF.has(marker[1])) {
      const frame = read(at + 4, 5);
      if (frame.length < 5) break;
      return { height: (frame[1] << 8) | frame[2], width: (frame[3] << 8) | frame[4] };
    }
    if (length < 2) break;
    at += 2 + length;
  }
  throw new Error('a JPEG without a readable frame header');
}
