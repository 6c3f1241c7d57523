import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The web app: TypeScript and Preact, built by Vite into `web/dist` (or `WEB_DIST`), which
 * `npm start` serves at `/` and the stack deploys to S3 behind CloudFront.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.WEB_DIST ?? fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
  },
});
