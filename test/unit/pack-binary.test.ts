import { describe, expect, it } from 'vitest';
import { packBinary } from '../../src/extension/pack-binary';

/** The distinct ArrayBuffers of a message: VS Code sends each as one RPC argument, counted in one byte. */
function buffers(value: unknown, found = new Set<ArrayBufferLike>()): Set<ArrayBufferLike> {
  if (value instanceof Uint8Array) found.add(value.buffer);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) buffers(v, found);
  return found;
}

describe('host messages with much binary', () => {
  it('a run with 300 sample grids and a checkpoint travels in one buffer, every byte in place', () => {
    const grids = Array.from({ length: 300 }, (_, k) => ({ step: k * 10, png: Uint8Array.from({ length: 50 + k }, (_, b) => (b * 7 + k) & 255) }));
    const checkpoint = Uint8Array.from({ length: 1000 }, (_, b) => b & 255);
    const message = { type: 'show', run: { runId: 'r', grids, checkpoint, dataset: null, metrics: [{ step: 1, split: 'train' }] } };
    expect(buffers(message).size).toBe(301); // more than VS Code's one-byte argument count can carry
    const packed = packBinary(message);
    expect(buffers(packed).size).toBe(1);
    expect(packed.run.grids.map((g) => [g.step, [...g.png]])).toEqual(grids.map((g) => [g.step, [...g.png]]));
    expect([...packed.run.checkpoint]).toEqual([...checkpoint]);
    expect(packed.run.metrics).toEqual(message.run.metrics);
    expect(packed.run.dataset).toBeNull();
    // A copy: the caller's bytes stay theirs.
    packed.run.checkpoint[0] = 99;
    expect(checkpoint[0]).toBe(0);
  });

  it("a data set's images keep a buffer of their own (a checkpoint kept by the page does not hold them)", () => {
    const images = new Uint8Array(2 << 20).fill(3);
    const checkpoint = new Uint8Array(10).fill(1);
    const packed = packBinary({ type: 'train', images, checkpoint });
    expect(packed.images.buffer).not.toBe(packed.checkpoint.buffer);
    expect(packed.images.buffer.byteLength).toBe(images.byteLength);
    expect(packed.checkpoint.buffer.byteLength).toBe(10);
    expect(packed.images.every((v) => v === 3)).toBe(true);
  });

  it('a message without binary is left as it is', () => {
    const message = { type: 'stop', runId: 'r' };
    expect(packBinary(message)).toBe(message);
  });
});
