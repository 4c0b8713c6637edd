import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function git(cmd, fallback) {
  try {
    return execSync(`git ${cmd}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return fallback;
  }
}

// The API documentation pages (/api/docs/swagger/ and /api/docs/redoc/,
// served by the API) load Swagger UI and ReDoc from this site: the files of
// the pinned npm packages go to dist/api-docs/ (next to public/api-docs/
// swagger-init.js), and the dev server serves them from node_modules.
const requireFrom = createRequire(import.meta.url);
const pkgDir = (name) => dirname(requireFrom.resolve(`${name}/package.json`));
const apiDocsFiles = () => ({
  'api-docs/swagger-ui/swagger-ui-bundle.js': join(pkgDir('swagger-ui-dist'), 'swagger-ui-bundle.js'),
  'api-docs/swagger-ui/swagger-ui.css': join(pkgDir('swagger-ui-dist'), 'swagger-ui.css'),
  'api-docs/swagger-ui/LICENSE': join(pkgDir('swagger-ui-dist'), 'LICENSE'),
  'api-docs/swagger-ui/NOTICE': join(pkgDir('swagger-ui-dist'), 'NOTICE'),
  'api-docs/redoc/redoc.standalone.js': join(pkgDir('redoc'), 'bundles', 'redoc.standalone.js'),
  'api-docs/redoc/redoc.standalone.js.LICENSE.txt': join(pkgDir('redoc'), 'bundles', 'redoc.standalone.js.LICENSE.txt'),
  'api-docs/redoc/LICENSE': join(pkgDir('redoc'), 'LICENSE'),
});

function apiDocs() {
  return {
    name: 'dandi-api-docs',
    generateBundle() {
      for (const [fileName, src] of Object.entries(apiDocsFiles())) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(src) });
      }
    },
    configureServer(server) {
      const files = apiDocsFiles();
      server.middlewares.use((req, res, next) => {
        const src = files[(req.url || '').split('?')[0].replace(/^\//, '')];
        if (!src) return next();
        const type = src.endsWith('.js') ? 'text/javascript' : src.endsWith('.css') ? 'text/css' : 'text/plain';
        res.setHeader('Content-Type', `${type}; charset=utf-8`);
        res.end(readFileSync(src));
      });
    },
  };
}

export default defineConfig({
  plugins: [vue(), apiDocs()],
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
      '/swagger': process.env.DANDI_URL || 'http://127.0.0.1:8080',
      '/redoc': process.env.DANDI_URL || 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
    // The suite runs beside the integration tests on 2 cores: one forked
    // worker at a time and generous timeouts, so that a loaded machine slows it down
    // rather than failing it (an RPC timeout between vitest's processes
    // once ended a run whose tests had all passed with exit 1).
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 30000,
    hookTimeout: 30000,
    teardownTimeout: 30000,
  },
});
