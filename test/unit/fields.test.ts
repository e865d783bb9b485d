/**
 * The dependency fields have the shapes the papers describe: PixelCNN's blind spot, Gated PixelCNN's blind-spot
 * free cone, Row LSTM's triangle with a short reach along its own row, and the Diagonal BiLSTM's full context —
 * all but one pixel, which the paper's construction cannot reach (see that test).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig, ModelType } from '../../src/model/config';
import { createModel } from '../../src/model/index';
import { BERNOULLI, smallConfig, useBackend } from '../support/engine';

beforeAll(() => useBackend('cpu'));

const H = 11;
const W = 11;

function fieldOf(type: ModelType, overrides: Partial<ModelConfig> = {}): (i: number, j: number) => boolean[][] {
  const model = createModel(smallConfig(type, 1, BERNOULLI, { image: { height: H, width: W, channels: 1 }, ...overrides }));
  const field = model.field();
  model.dispose();
  return (i, j) => {
    const deps = field.dependencies(i, j, 0);
    return Array.from({ length: H }, (_, r) => Array.from({ length: W }, (_, c) => deps[r * W + c] === 1));
  };
}

/**
 * A blind spot: a pixel above the output that is not seen although a pixel further up in the same column is —
 * the field has a hole, not just an edge.
 */
function blindSpots(seen: boolean[][], i: number): [number, number][] {
  const holes: [number, number][] = [];
  for (let c = 0; c < W; c++) {
    for (let r = 0; r < i; r++) {
      if (!seen[r][c] && seen.slice(0, r).some((row) => row[c])) holes.push([r, c]);
    }
  }
  return holes;
}

/** The columns seen in row r, as [first, last], checking that they form one unbroken run. */
function span(seen: boolean[][], r: number): [number, number] | null {
  const cols = seen[r].flatMap((v, c) => (v ? [c] : []));
  if (cols.length === 0) return null;
  expect(cols[cols.length - 1] - cols[0] + 1, `row ${r} is one unbroken run`).toBe(cols.length);
  return [cols[0], cols[cols.length - 1]];
}

describe('dependency field shapes', () => {
  const [i, j] = [7, 5];

  it('PixelCNN has a blind spot up and to the right that no depth removes', () => {
    const seen = fieldOf('pixelcnn', { residual: false, layers: 3 })(i, j);
    const holes = blindSpots(seen, i);
    expect(holes.length).toBeGreaterThan(0);
    expect(holes.every(([, c]) => c > j)).toBe(true);
    // Directly above-right is the first casualty: (i−1, j+2) is hidden while (i−2, j+2) is seen.
    expect(seen[i - 1][j + 2]).toBe(false);
    expect(seen[i - 2][j + 2]).toBe(true);
    // More layers reach further left on the row above, never further right.
    const rowAbove = [1, 2, 4].map((layers) => span(fieldOf('pixelcnn', { residual: false, layers })(i, j), i - 1)!);
    expect(rowAbove.map(([, right]) => right)).toEqual([j + 1, j + 1, j + 1]);
    expect(rowAbove[2][0]).toBeLessThan(rowAbove[0][0]);
  });

  it('Gated PixelCNN has none: every column is seen down to the row above, and depth reaches right too', () => {
    const seen = fieldOf('gated-pixelcnn', { layers: 3 })(i, j);
    expect(blindSpots(seen, i)).toEqual([]);
    for (let r = 0; r < i; r++) span(seen, r);
    const rights = [1, 2, 3].map((layers) => span(fieldOf('gated-pixelcnn', { layers })(i, j), i - 1)![1]);
    expect(rights).toEqual([j + 1, j + 2, j + 3]);
  });

  it('Row LSTM sees a triangle above and only a few pixels to its left in its own row', () => {
    const seen = fieldOf('row-lstm', { layers: 2, firstKernel: 3, kernel: 3 })(i, j);
    // The triangle: each row up reaches one more pixel to each side (K^ss is 1×3), until the image edge.
    const spans = Array.from({ length: i }, (_, d) => span(seen, i - 1 - d)!);
    for (let d = 1; d < spans.length; d++) {
      expect(spans[d][1]).toBe(Math.min(W - 1, spans[d - 1][1] + 1));
      expect(spans[d][0]).toBe(Math.max(0, spans[d - 1][0] - 1));
    }
    // Its own row: the input convolution (1 pixel) and two mask-B 1×3 kernels (1 each): j−3 … j−1, not further.
    expect(span(seen, i)).toEqual([j - 3, j - 1]);
    expect(seen[i][0]).toBe(false);
  });

  it('Diagonal BiLSTM sees the whole causal past but the last pixel of the row above', () => {
    // The right-to-left state, shifted down, brings row i − 1 as seen from (i − 1, j); along its own row that
    // state reaches only as far right as the mask-A input convolution lets (i − 1, W − 2) see — never
    // (i − 1, W − 1) itself. The left-to-right state reaches it only within the input convolution's reach.
    const firstKernel = 3;
    const field = fieldOf('diagonal-bilstm', { layers: 2, firstKernel });
    for (const [r, c] of [[i, j], [0, W - 1], [H - 1, 0], [3, 9], [5, W - 2]]) {
      const seen = field(r, c);
      const past = seen.map((row, rr) => row.map((_, cc) => rr < r || (rr === r && cc < c)));
      const unreachable = r > 0 && c < W - 1 - (firstKernel - 1) / 2;
      if (unreachable) past[r - 1][W - 1] = false;
      expect(seen, `pixel (${r}, ${c})`).toEqual(past);
    }
  });
});
