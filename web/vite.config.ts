/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The built dashboard ships inside the Python package (mevops/web/static) and is served by the
// engine under `/`; `base: './'` keeps every asset URL relative. `npm run dev` proxies the API
// to a running engine (MEVOPS_API, default the demo's http://127.0.0.1:8090).
const api = process.env.MEVOPS_API ?? 'http://127.0.0.1:8090';
// tests format local times: pin the zone so they mean the same on every machine
process.env.TZ = 'UTC';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    outDir: '../mevops/web/static',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': { target: api, ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['./test/setup.ts'],
    restoreMocks: true,
    pool: 'threads',
    isolate: false, // one jsdom per worker (test/setup.ts resets sockets, storage, tokens and the hash after each test): 35 s -> 12 s
  },
});
