import * as tf from '@tensorflow/tfjs-core';
import { useWasmInNode } from '../src/backend/node';
async function main() {
  await useWasmInNode();
  const big = tf.randomNormal([16, 1, 28, 128]);
  const map = tf.randomNormal([16, 28, 28, 128]);
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['split4 small', () => tf.split(big, 4, -1)],
    ['split [96,32] small', () => tf.split(big, [96, 32], -1)],
    ['concat4 small', () => tf.concat([big, big, big, big], -1)],
    ['split28 rows', () => tf.split(map, 28, 1)],
    ['tanh small', () => tf.tanh(big)],
    ['mul small', () => tf.mul(big, big)],
  ];
  for (const [name, f] of cases) {
    for (let rep = 0; rep < 2; rep++) {
      const t0 = performance.now();
      for (let k = 0; k < 200; k++) tf.dispose(f());
      if (rep) console.log(name, ((performance.now() - t0) * 5).toFixed(1), 'µs/op');
    }
  }
}
main();
