import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The relay serves the built app from dist/web; in `npm run dev` Vite serves it and the
// app is pointed at a running relay with ?relay=ws://127.0.0.1:PORT&token=...
export default defineConfig({
  root: 'web',
  plugins: [svelte()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
});
