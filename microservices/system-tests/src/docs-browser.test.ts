import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestIdentityProvider } from '@microservices/service-kit/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  LOOPBACK,
  type RunningService,
  type ServiceName,
  serviceEntry,
  startService,
  stopAll,
} from './support/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!haveChromium && !inCi) {
  console.warn(
    `\n!!! ${CHROMIUM} not found: SKIPPING the Swagger UI browser tests.\n` +
      '!!! Install it with: apt-get install -y --no-install-recommends chromium\n',
  );
}

// No request may leave the machine: every name except localhost/127.0.0.1 fails to resolve, and the
// background services that phone home on first run are off.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

interface TryItOut {
  method: string;
  path: string;
  status: number;
}

interface DocsCase {
  service: ServiceName;
  /** Extra environment the service needs to start. */
  env: () => Promise<Record<string, string>>;
  /** Operations to run through "Try it out" → "Execute", with the status the page must show. */
  tryItOut: readonly TryItOut[];
}

// order-service needs a user-service URL to start; /docs never calls it, so it points at a closed port.
const closedUserService = async () => ({ USER_SERVICE_URL: `http://${LOOPBACK}:9` });

const CASES: readonly DocsCase[] = [
  {
    service: 'user-service',
    env: async () => ({}),
    tryItOut: [
      { method: 'get', path: '/', status: 200 },
      { method: 'post', path: '/api/v1/users', status: 201 },
    ],
  },
  {
    service: 'order-service',
    env: closedUserService,
    tryItOut: [{ method: 'get', path: '/', status: 200 }],
  },
];

/**
 * Chromium with a fresh profile (no cached assets or service workers from an earlier run can hide a
 * problem); `close` ends it and removes the profile.
 */
async function launchBrowser(
  profilePrefix: string,
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!haveChromium) {
    throw new Error(
      `${CHROMIUM} is missing and CI=true: the browser tests must run in CI. ` +
        '.ci/run installs it with apt-get install -y --no-install-recommends chromium',
    );
  }
  const profileDir = await mkdtemp(join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

function countOperations(document: unknown): number {
  const paths = (document as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  return Object.values(paths).reduce(
    (sum, item) => sum + Object.keys(item).filter((key) => HTTP_METHODS.has(key)).length,
    0,
  );
}

async function tryOperation(page: Page, { method, path }: TryItOut): Promise<string> {
  const block = page
    .locator(`.opblock.opblock-${method}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
  await block.locator('.opblock-summary').first().click();
  // With tryItOutEnabled the operation opens ready to execute; click "Try it out" only when it is offered.
  const tryOut = block.locator('.try-out__btn');
  if ((await tryOut.count()) > 0 && (await tryOut.textContent())?.trim() === 'Try it out') {
    await tryOut.click();
  }
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  return (await status.textContent())?.trim() ?? '';
}

for (const { service, env, tryItOut } of CASES) {
  const built = existsSync(serviceEntry(service));
  if (!built) {
    console.warn(`\n!!! ${service} is not built (no dist/main.js): SKIPPING its Swagger UI browser test\n`);
  }

  describe.skipIf(!built || (!haveChromium && !inCi))(`${service} /docs in a real browser`, () => {
    let running: RunningService;
    let context: BrowserContext;
    let closeBrowser: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ context, close: closeBrowser } = await launchBrowser(`docs-browser-${service}-`));
      running = await startService(service, await env());
    });

    afterAll(async () => {
      await closeBrowser?.();
      await stopAll();
    });

    it('when /docs is opened, then Swagger UI lists every operation, loads only from 127.0.0.1, breaks none of its Content-Security-Policy, and "Try it out" shows real responses', async () => {
      const requested: string[] = [];
      context.on('request', (request) => {
        requested.push(request.url());
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => {
        pageErrors.push(err.message);
      });
      // Every resource, script or style the page's Content-Security-Policy blocks fires this event.
      // Browser code as text: this project is typed for Node, without the DOM library.
      await page.addInitScript({
        content: `window.cspViolations = [];
          document.addEventListener('securitypolicyviolation', (event) => {
            window.cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
          });`,
      });
      const screenshot = join(tmpdir(), `docs-${service}.png`);
      onTestFailed(() => console.error(`${service} /docs screenshot at the point of failure: ${screenshot}`));

      try {
        const document: unknown = await (await fetch(`${running.url}/openapi.json`)).json();
        const operations = countOperations(document);
        expect(operations).toBeGreaterThan(0);

        const docs = await page.goto(`${running.url}/docs`);
        expect(docs?.headers()['content-security-policy']).toContain("script-src 'self'");
        const title = page.locator('.swagger-ui .info .title');
        await title.waitFor({ timeout: 15_000 });
        expect(await title.textContent()).toContain(service);
        expect(await page.locator('.swagger-ui .opblock').count()).toBe(operations);

        for (const operation of tryItOut) {
          const shown = await tryOperation(page, operation);
          expect(shown, `${operation.method.toUpperCase()} ${operation.path}`).toBe(String(operation.status));
        }
      } finally {
        await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
      }

      expect(pageErrors).toEqual([]);
      expect(await page.evaluate<string[]>('window.cspViolations')).toEqual([]);
      expect(requested.length).toBeGreaterThan(0);
      const offLoopback = requested.filter((url) => {
        const { protocol, hostname } = new URL(url);
        return !(protocol === 'data:' || protocol === 'blob:' || hostname === LOOPBACK);
      });
      expect(offLoopback).toEqual([]);
    });
  });
}

const userServiceBuilt = existsSync(serviceEntry('user-service'));

describe.skipIf(!userServiceBuilt || (!haveChromium && !inCi))(
  'user-service /docs with authentication on, in a real browser',
  () => {
    let idp: TestIdentityProvider;
    let running: RunningService;
    let context: BrowserContext;
    let closeBrowser: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ context, close: closeBrowser } = await launchBrowser('docs-browser-auth-'));
      idp = await TestIdentityProvider.start();
      running = await startService('user-service', { AUTH_ENABLED: 'true', AUTH_ISSUERS: idp.issuer });
    });

    afterAll(async () => {
      await closeBrowser?.();
      await stopAll();
      await idp?.stop();
    });

    it('when a token is pasted into Authorize, then "Try it out" sends it as a bearer token: 401 before, 200 after', async () => {
      const page = context.pages()[0] ?? (await context.newPage());
      const sent: Array<string | undefined> = [];
      context.on('request', (request) => {
        if (new URL(request.url()).pathname === '/api/v1/users') sent.push(request.headers().authorization);
      });
      await page.goto(`${running.url}/docs`);
      await page.locator('.swagger-ui .info .title').waitFor({ timeout: 15_000 });
      const list = { method: 'get', path: '/api/v1/users', status: 200 };
      expect(await tryOperation(page, list)).toBe('401');

      const token = await idp.mint('user-service', { claims: { scope: 'users:read' } });
      await page.locator('.swagger-ui .auth-wrapper .authorize').click();
      await page.locator('.swagger-ui .auth-container input').fill(token);
      await page.locator('.swagger-ui .auth-btn-wrapper .modal-btn.authorize').click();
      await page.locator('.swagger-ui .auth-btn-wrapper .btn-done').click();

      const block = page
        .locator('.opblock.opblock-get')
        .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/users"]') });
      await block.locator('button.execute').click();
      const status = block.locator('.live-responses-table .response .response-col_status').first();
      await expect.poll(async () => (await status.textContent())?.trim()).toBe('200');
      expect(sent).toEqual([undefined, `Bearer ${token}`]);
    });
  },
);
