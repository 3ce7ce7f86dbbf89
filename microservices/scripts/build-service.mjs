#!/usr/bin/env node
// Bundles a service's src/main.ts into one ESM file, dist/main.js, that runs with plain `node` and no
// node_modules: the container image only needs Node and the dist directory.
// Run from the service directory (each service's `npm run build`).
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { build } from 'esbuild';

const serviceDir = process.cwd();
const distDir = join(serviceDir, 'dist');
// Built beside dist/ and swapped in at the end, so a process starting from dist/ (a running test suite,
// `npm start`) never sees a half-written or missing tree while another build runs.
const outDir = join(serviceDir, `dist.building-${process.pid}`);
const kitDir = join(serviceDir, '..', 'service-kit');
const kitBin = join(kitDir, 'src', 'bin');

// The service's name is its directory's (the Dockerfile's SERVICE build arg, app.ts's SERVICE_NAME).
const serviceName = basename(serviceDir);
// Versioned SQL migrations ship beside the bundle; the migration runner reads them from dist/migrations.
const migrationsDir = join(serviceDir, 'migrations');

// Every entry an image runs: the service, the kit's migration command (for a service with migrations) and
// the kit's container healthcheck. The kit's bins are one file for every service: what differs is given by
// this build (the service's name as a define, its migrations copied beside the bundle). Shared code goes to
// dist/chunks once instead of into each file.
const entryPoints = { main: join(serviceDir, 'src', 'main.ts'), healthcheck: join(kitBin, 'healthcheck.ts') };
if (existsSync(migrationsDir)) entryPoints.migrate = join(kitBin, 'migrate.ts');

// pino, prom-client, sonic-boom and friends are CommonJS and call require() for Node built-ins; an ESM
// bundle has no `require`, `__filename` or `__dirname`, so the banner recreates them for the whole file.
const banner = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
  "import { dirname as __bundleDirname } from 'node:path';",
  'const require = __bundleCreateRequire(import.meta.url);',
  'const __filename = __bundleFileURLToPath(import.meta.url);',
  'const __dirname = __bundleDirname(__filename);',
].join('\n');

// Swagger UI's browser files are served by the service itself (no CDN); main.ts looks for them beside main.js.
const SWAGGER_UI_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js'];
// swagger-ui-dist is Apache-2.0: its licence and notice travel with the copied files.
const SWAGGER_UI_LEGAL = ['LICENSE', 'NOTICE'];

async function main() {
  await rm(outDir, { recursive: true, force: true });
  try {
    await buildInto();
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    throw err;
  }
  const retired = join(serviceDir, `dist.retired-${process.pid}`);
  await rename(distDir, retired).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(outDir, distDir);
  await rm(retired, { recursive: true, force: true });
}

async function buildInto() {
  const started = performance.now();
  const result = await build({
    entryPoints,
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    // Whitespace and syntax only: readable names keep stack traces and heap snapshots useful.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    // Identifiers are not minified, so names already survive (bar a `2` suffix where bundling resolves a
    // collision). keepNames would wrap every function created at run time in a `__name()` call, and Hono
    // creates a dozen arrow-function fields per request context: measured 6 % of a probe's CPU and ~20 %
    // of its throughput (`npm run bench`).
    keepNames: false,
    sourcemap: 'linked',
    legalComments: 'linked',
    banner: { js: banner },
    // Read by the kit's migrate bin (src/bin/migrate.ts): which service it migrates.
    define: { __SERVICE_NAME__: JSON.stringify(serviceName) },
    logLevel: 'warning',
    metafile: true,
  });
  const buildMs = Math.round(performance.now() - started);

  if (existsSync(migrationsDir)) await cp(migrationsDir, join(outDir, 'migrations'), { recursive: true });

  // Resolved from the kit, which serves the docs page and declares swagger-ui-dist.
  const swaggerDir = dirname(
    createRequire(join(kitDir, 'package.json')).resolve('swagger-ui-dist/package.json'),
  );
  const assetsOut = join(outDir, 'swagger-ui');
  await mkdir(assetsOut, { recursive: true });
  await Promise.all(
    [...SWAGGER_UI_FILES, ...SWAGGER_UI_LEGAL].map((f) => copyFile(join(swaggerDir, f), join(assetsOut, f))),
  );

  const packages = await writeThirdPartyLicenses(Object.keys(result.metafile.inputs), outDir);

  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  const bundleBytes = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  const assetBytes = (await Promise.all(SWAGGER_UI_FILES.map((f) => stat(join(assetsOut, f))))).reduce(
    (sum, s) => sum + s.size,
    0,
  );
  process.stdout.write(
    `built ${serviceName}/dist (${Object.keys(entryPoints).join(', ')}): ${kib(bundleBytes)} of JavaScript ` +
      `(${packages} npm packages bundled) in ${buildMs} ms; ` +
      `swagger-ui assets ${kib(assetBytes)}\n`,
  );
}

/**
 * `legalComments` only keeps `/*!`-style comments, and most MIT packages carry their licence in a
 * LICENSE file instead; collect those for every npm package that ended up in the bundle.
 */
async function writeThirdPartyLicenses(inputs, dir) {
  const roots = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1]) roots.add(resolve(match[1]));
  }
  const sections = [];
  for (const root of [...roots].sort()) {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const licenseFile = (await readdir(root)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenseFile ? (await readFile(join(root, licenseFile), 'utf8')).trim() : '(no licence file)';
    sections.push(`${pkg.name}@${pkg.version} (${pkg.license ?? 'unknown'})\n\n${text}`);
  }
  const rule = `\n\n${'-'.repeat(78)}\n\n`;
  await writeFile(
    join(dir, 'THIRD_PARTY_LICENSES.txt'),
    `Third-party software bundled into main.js\n\n${sections.join(rule)}\n`,
  );
  return sections.length;
}

main().catch((err) => {
  // esbuild has already printed its diagnostics with file and line; this names the service that failed.
  const detail = Array.isArray(err?.errors) ? 'see the errors above' : String(err?.stack ?? err);
  console.error(`build failed for ${serviceName}: ${detail}`);
  process.exit(1);
});
