// Builds the bundles with esbuild:
//   dist/extension.js  the VS Code extension host (CommonJS, `vscode` external, no TF.js)
//   dist/bench.cjs     `npm run bench` (Node)
// The Node bundles take TF.js's ES modules (mainFields module first) so that one copy of tfjs-core — and one
// kernel and gradient registry — serves every backend.
import { build } from 'esbuild';

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  // `import.meta.url` is only read where `require` is missing (ES modules); CommonJS bundles have `require`.
  logOverride: { 'empty-import-meta': 'silent' },
};

await Promise.all([
  build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true }),
  build({ ...node, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.cjs' }),
]);
