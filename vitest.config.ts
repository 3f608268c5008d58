import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run on the packages' TypeScript sources, so no build is needed between edit and test.
    alias: [
      { find: /^@gquic\/([a-z0-9-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^gquic$/, replacement: `${packages}cli/src/index.ts` },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'conformance/**/*.test.ts'],
    testTimeout: 60_000,
    reporters: ['default'],
  },
});
