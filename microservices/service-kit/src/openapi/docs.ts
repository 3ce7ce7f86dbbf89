import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';

/** The only files of swagger-ui-dist the page loads; everything is served from this process. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

const isAssetName = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);

/** Where swagger-ui-dist lives in node_modules; bundled builds copy the files and pass their own directory. */
export function defaultSwaggerAssetsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/**
 * Swagger UI at `/docs` that works with no internet access: the page references
 * `/docs/assets/swagger-ui-dist/*`, which this process serves from local files.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>, options: { title: string; assetsDir: string }): void {
  const cache = new Map<AssetName, Promise<Buffer>>();
  const load = (name: AssetName) => {
    let pending = cache.get(name);
    if (!pending) {
      pending = readFile(join(options.assetsDir, name));
      pending.catch(() => cache.delete(name));
      cache.set(name, pending);
    }
    return pending;
  };

  app.get(
    '/docs',
    swaggerUI({ url: '/openapi.json', baseUrl: '/docs/assets', title: options.title, tryItOutEnabled: true }),
  );
  app.get('/docs/assets/swagger-ui-dist/:file', async (c) => {
    const file = c.req.param('file');
    if (!isAssetName(file)) return c.notFound();
    const body = await load(file);
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': ASSETS[file],
      'Cache-Control': 'public, max-age=86400',
    });
  });
}
