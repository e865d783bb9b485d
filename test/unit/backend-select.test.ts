/** Backend choice in Node: WebGPU and WebGL are unavailable here, and the choice says why before using wasm. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/select';
import { useBackend } from '../support/engine';

describe('selectBackend', () => {
  it('falls back from WebGPU and WebGL to wasm, naming each reason and the adapter', async () => {
    await useBackend('wasm'); // points TF.js at the wasm binaries in node_modules
    const choice = await selectBackend('auto');
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.fallbacks.map((f) => f.name)).toEqual(['webgpu', 'webgl']);
    expect(choice.fallbacks[0].reason).toMatch(/no WebGPU/);
    expect(choice.fallbacks[1].reason).toMatch(/WebGL/);
    expect(choice.adapter).toMatch(/WebAssembly with SIMD, one thread/);
  });

  it('starts from the backend asked for', async () => {
    const choice = await selectBackend('cpu');
    expect(choice).toEqual({ name: 'cpu', adapter: expect.stringMatching(/CPU/), fallbacks: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('refuses an unknown backend by name', async () => {
    await expect(selectBackend('tpu' as never)).rejects.toThrow(/unknown backend 'tpu'/);
  });
});
