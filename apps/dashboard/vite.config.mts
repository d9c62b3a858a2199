import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const dashboardRoot = import.meta.dirname;
const repositoryRoot = resolve(dashboardRoot, '../..');

/**
 * The dashboard builds into dist/apps/dashboard, which the control plane serves
 * (AIRLOCK_DASHBOARD_DIR). `vite` (dev) proxies /api to a control plane on
 * AIRLOCK_CONTROL_PLANE_URL (default http://127.0.0.1:8080), so cookies stay same-origin.
 */
export default defineConfig({
  root: dashboardRoot,
  plugins: [react()],
  build: {
    outDir: resolve(repositoryRoot, 'dist/apps/dashboard'),
    emptyOutDir: true,
    // The control plane's CSP admits no inline script or style: every asset is a file of its own.
    assetsInlineLimit: 0,
    // The preload polyfill is only for browsers without <link rel="modulepreload">; every
    // browser the dashboard supports has it, and the polyfill is one script less to trust.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/api': { target: process.env['AIRLOCK_CONTROL_PLANE_URL'] ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
