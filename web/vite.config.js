import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { execSync } from 'node:child_process';

function git(cmd, fallback) {
  try {
    return execSync(`git ${cmd}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return fallback;
  }
}

export default defineConfig({
  plugins: [vue()],
  define: {
    __APP_VERSION__: JSON.stringify(git('describe --tags --always', 'dev')),
    __GIT_REVISION__: JSON.stringify(git('rev-parse HEAD', '')),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 8085,
    // The dev server forwards the API to a running stack (contrib/dev/stack-up).
    proxy: {
      '/api': process.env.DANDI_URL || 'http://127.0.0.1:8080',
      '/oauth': process.env.DANDI_URL || 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
  },
});
