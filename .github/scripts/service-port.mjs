#!/usr/bin/env node
// The port a service listens on by default: the PORT build arg of microservices/Dockerfile for that service.
//
//   node .github/scripts/service-port.mjs user-service        # prints 8000
//
// Read from the one place the default is written, the service's env schema (`PORT: portVar(8000)` in
// microservices/<service>/src/env.ts), which is inside the service's folder and so already an input of its
// image (changed-services.mjs). A deploy test checks the result against the parsed schema. On GitHub it also
// writes `port=<port>` to $GITHUB_OUTPUT.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The default PORT of `service`, or an Error saying why there is none. */
export function servicePort(root, service) {
  if (!/^[a-z0-9-]+$/.test(service ?? '')) throw new Error(`"${service}" is not a service directory name`);
  const envFile = join(root, 'microservices', service, 'src', 'env.ts');
  if (!existsSync(envFile)) throw new Error(`microservices/${service}/src/env.ts does not exist`);
  const found = [...readFileSync(envFile, 'utf8').matchAll(/^\s*PORT:\s*portVar\((\d+)\)/gm)];
  if (found.length !== 1)
    throw new Error(
      `microservices/${service}/src/env.ts: expected one \`PORT: portVar(<port>)\`, found ${found.length}`,
    );
  return Number(found[0][1]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const [service, ...rest] = process.argv.slice(2);
  try {
    if (rest.length > 0) throw new Error('usage: service-port.mjs <service>');
    const port = servicePort(root, service);
    process.stdout.write(`${port}\n`);
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `port=${port}\n`);
  } catch (err) {
    process.stderr.write(`service-port: ${err.message}\n`);
    process.exit(1);
  }
}
