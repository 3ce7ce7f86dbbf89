import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SwaggerUI } from '@hono/swagger-ui';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { problemResponse } from '../errors/problem.js';
import type { AppEnv } from '../http/app-env.js';

/** The only files of swagger-ui-dist the page loads; everything is served from this process. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

const isAssetName = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);
const ASSETS_BASE = '/docs/assets';

/** Where swagger-ui-dist lives in node_modules; bundled builds copy the files and pass their own directory. */
export function defaultSwaggerAssetsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function renderPage(title: string): string {
  const body = SwaggerUI({
    url: '/openapi.json',
    baseUrl: ASSETS_BASE,
    tryItOutEnabled: true,
    deepLinking: true,
  });
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
  </head>
  <body>${body}</body>
</html>
`;
}

const docsRoute = createRoute({
  method: 'get',
  path: '/docs',
  tags: ['Service'],
  summary: 'Swagger UI for this API (works offline: all assets are served here)',
  responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
});

const assetRoute = createRoute({
  method: 'get',
  path: `${ASSETS_BASE}/swagger-ui-dist/{file}`,
  tags: ['Service'],
  summary: 'A Swagger UI asset (swagger-ui.css, swagger-ui-bundle.js)',
  request: {
    params: z.object({
      file: z.string().openapi({ param: { name: 'file', in: 'path' }, example: 'swagger-ui.css' }),
    }),
  },
  responses: {
    200: {
      description: 'The asset',
      content: { 'text/css': { schema: z.string() }, 'text/javascript': { schema: z.string() } },
    },
    404: problemResponse(404, 'No such asset'),
  },
});

/**
 * Swagger UI at `/docs` that works with no internet access: the page references
 * `/docs/assets/swagger-ui-dist/*`, which this process serves from local files.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>, options: { title: string; assetsDir: string }): void {
  const page = renderPage(options.title);
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

  app.openapi(docsRoute, (c) => c.html(page, 200));
  app.openapi(assetRoute, async (c) => {
    const { file } = c.req.valid('param');
    if (!isAssetName(file)) return c.notFound();
    const body = await load(file);
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': ASSETS[file],
      'Cache-Control': 'public, max-age=86400',
    });
  });
}
