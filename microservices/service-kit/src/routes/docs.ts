import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../edge/app-env.js';
import { markSharedBody } from '../edge/unsent-answers.js';
import { problemResponse } from '../problems/problem-schemas.js';
import { OPEN_TO_ALL } from './openapi/secured.js';

/** The only files of swagger-ui-dist the page loads; everything is served from this process. */
const DIST_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
type DistAssetName = keyof typeof DIST_ASSETS;

const isDistAsset = (name: string): name is DistAssetName => Object.hasOwn(DIST_ASSETS, name);
const ASSETS_BASE = '/docs/assets';
const INITIALIZER_PATH = `${ASSETS_BASE}/swagger-initializer.js`;

/**
 * Starts Swagger UI on the page. A separate file rather than an inline script, so the page's
 * Content-Security-Policy can forbid inline scripts altogether.
 */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
  });
});
`;

/** Where swagger-ui-dist lives in node_modules; bundled builds copy the files and pass their own directory. */
export function defaultSwaggerAssetsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * The page's body, given the asset URLs @hono/swagger-ui derives from its `baseUrl`
 * (`/docs/assets/swagger-ui-dist/swagger-ui.css` and `…/swagger-ui-bundle.js`). Written by hand because the
 * middleware's own body starts Swagger UI with an inline script, which the docs CSP forbids: here the
 * bootstrap is a separate file, {@link INITIALIZER_PATH}.
 */
function renderBody(asset: { css: string[]; js: string[] }): string {
  const styles = asset.css.map((url) => `<link rel="stylesheet" href="${escapeHtml(url)}" />`);
  const scripts = [...asset.js, INITIALIZER_PATH].map((url) => `<script src="${escapeHtml(url)}"></script>`);
  return [...styles, '<div id="swagger-ui"></div>', ...scripts].join('\n');
}

/** The `/docs` handler: @hono/swagger-ui's page, pointed at this process's own copy of swagger-ui-dist. */
function docsPage(title: string) {
  return swaggerUI<AppEnv>({
    title: escapeHtml(title),
    // Served by this process (assetRoute below), never a CDN: the page works offline.
    baseUrl: ASSETS_BASE,
    // Ignored by the middleware once manuallySwaggerUIHtml is set; the initializer names the document.
    url: '/openapi.json',
    manuallySwaggerUIHtml: renderBody,
  });
}

const docsRoute = createRoute({
  method: 'get',
  path: '/docs',
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'Swagger UI for this API (works offline: all assets are served here)',
  responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
});

const initializerRoute = createRoute({
  method: 'get',
  path: INITIALIZER_PATH,
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'The script that starts Swagger UI on /docs',
  responses: { 200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } } },
});

const assetRoute = createRoute({
  method: 'get',
  path: `${ASSETS_BASE}/swagger-ui-dist/{file}`,
  tags: ['Service'],
  security: OPEN_TO_ALL,
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
    404: problemResponse('not-found', 'No such asset'),
  },
});

/**
 * Swagger UI at `/docs` that works with no internet access: the page references
 * `/docs/assets/swagger-ui-dist/*`, which this process serves from local files.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>, options: { title: string; assetsDir: string }): void {
  const page = docsPage(options.title);
  const cache = new Map<DistAssetName, Promise<Buffer>>();
  const load = (name: DistAssetName) => {
    let pending = cache.get(name);
    if (!pending) {
      pending = readFile(join(options.assetsDir, name)).then((body) => {
        markSharedBody(body);
        return body;
      });
      pending.catch(() => cache.delete(name));
      cache.set(name, pending);
    }
    return pending;
  };

  // The middleware always answers and never calls next; a route handler must return a Response, hence the
  // fallback, which no request reaches.
  app.openapi(docsRoute, async (c) => (await page(c, async () => {})) ?? c.notFound());
  app.openapi(initializerRoute, (c) =>
    c.body(INITIALIZER, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=86400',
    }),
  );
  app.openapi(assetRoute, async (c) => {
    const { file } = c.req.valid('param');
    if (!isDistAsset(file)) return c.notFound();
    const body = await load(file);
    return c.body(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), 200, {
      'Content-Type': DIST_ASSETS[file],
      'Cache-Control': 'public, max-age=86400',
    });
  });
}
