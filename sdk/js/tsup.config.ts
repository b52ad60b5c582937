import { defineConfig } from 'tsup';

export default defineConfig([
  // ESM: `jose` stays an external dependency.
  {
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    external: ['jose', 'openai'],
  },
  // CommonJS: `jose` v6 is ESM-only, so it is bundled in for Node versions
  // without require(esm) (Node 18, early Node 20).
  {
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    noExternal: ['jose'],
    external: ['openai'],
  },
]);
