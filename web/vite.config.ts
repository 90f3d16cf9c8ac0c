/**
 * Builds the web console (`npm run build:web`) into web/dist, which the embedded API serves at `/` and the CDK
 * app uploads to S3. No React plugin: vite 8's oxc transform compiles JSX itself (the plugin's peer range
 * conflicts with jest's Babel 7).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  logLevel: 'warn',
});
