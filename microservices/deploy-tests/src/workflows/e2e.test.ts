import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chartDir, repoRoot } from '../support/deploy-paths.js';
import {
  type Combination,
  helmLint,
  presetValues,
  renderObjects,
  SERVICES,
  type ServiceName,
} from '../support/helm.js';
import { type K8sObject, parseManifests } from '../support/manifests.js';
import { optionalTool, runCommand } from '../support/tools.js';
import { validateAll } from '../support/validate.js';
import {
  githubDir,
  loadWorkflows,
  runScripts,
  scriptsDir,
  type Workflow,
  workflowByFile,
} from './support/workflows.js';

const e2eDir = join(githubDir, 'e2e');
const NAMESPACE = 'shop-e2e';

let e2e: Workflow;
let script: string;

beforeAll(async () => {
  e2e = workflowByFile(await loadWorkflows(), 'e2e.yml');
  script = runScripts(e2e)
    .map((r) => r.script)
    .join('\n');
});

const combination = (service: ServiceName): Combination => ({
  name: `${service} e2e`,
  release: service,
  namespace: NAMESPACE,
  valuesFiles: [
    presetValues(service),
    join(e2eDir, 'values-common.yaml'),
    join(e2eDir, `values-${service}.yaml`),
  ],
});

type Container = {
  image: string;
  imagePullPolicy?: string;
  env?: Array<{ name: string; valueFrom?: unknown }>;
  ports?: Array<{ name?: string; containerPort: number }>;
};
const podContainers = (o: K8sObject): Container[] => {
  const spec = o.spec as { template?: { spec: { containers: Container[] } }; containers?: Container[] };
  return spec.template?.spec.containers ?? spec.containers ?? [];
};

describe('what e2e.yml installs, rendered here with the same files', () => {
  it('the throwaway PostgreSQL manifest is valid, and its init script creates the roles and databases the Secrets use', async () => {
    const objects = parseManifests(readFileSync(join(e2eDir, 'postgres.yaml'), 'utf8'), 'postgres.yaml');
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    expect(await validateAll(objects)).toEqual([]);
    const sql = readFileSync(join(repoRoot, 'microservices/compose/postgres/init-databases.sql'), 'utf8');
    const uris = [
      ...script.matchAll(
        /postgres:\/\/(\w+):(\w+)@postgres\.\$\{NAMESPACE\}\.svc\.cluster\.local:5432\/(\w+)/g,
      ),
    ];
    expect(uris).toHaveLength(2);
    for (const [, user, password, database] of uris) {
      expect(sql).toContain(`CREATE ROLE ${user} LOGIN PASSWORD '${password}';`);
      expect(sql).toContain(`CREATE DATABASE ${database} OWNER ${user};`);
    }
    expect(script).toContain('create configmap postgres-init');
  });

  it.each(SERVICES)(
    '%s: helm lint --strict passes with the e2e values (the schema rejects unknown keys)',
    async (service) => {
      const result = await helmLint(combination(service));
      expect(result.output).not.toMatch(/\[ERROR\]|\[WARNING\]/);
      expect(result.code).toBe(0);
    },
  );

  it.each(SERVICES)(
    '%s: renders valid objects running the image the workflow builds and loads, never pulled',
    async (service) => {
      const objects = await renderObjects(combination(service));
      expect(await validateAll(objects)).toEqual([]);
      const image = `ghcr.io/e2e/${service}:e2e`;
      // The one Dockerfile, told which service and the port it listens on (the Deployment's containerPort),
      // as service-port.mjs reads it from that service's env schema.
      const build = new RegExp(
        `docker build -f microservices/Dockerfile -t ${image} \\\\\\s+--build-arg SERVICE=${service} --build-arg PORT="\\$\\(node \\.github/scripts/service-port\\.mjs ${service}\\)" `,
      ).exec(script);
      expect(build, `docker build of ${image}`).not.toBeNull();
      const port = await runCommand(process.execPath, [join(scriptsDir, 'service-port.mjs'), service]);
      expect(script).toContain(`kind load docker-image ${image} --name "$CLUSTER"`);
      const pods = objects.filter((o) => ['Deployment', 'Job', 'Pod'].includes(o.kind));
      expect(pods.length).toBeGreaterThan(1);
      for (const container of pods.flatMap(podContainers)) {
        expect(container.image).toBe(image);
        expect(container.imagePullPolicy).toBe('Never');
      }
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service);
      const url = deployment && podContainers(deployment)[0]?.env?.find((e) => e.name === 'DATABASE_URL');
      expect(url?.valueFrom).toEqual({ secretKeyRef: { name: `${service}-database`, key: 'uri' } });
      const http = deployment && podContainers(deployment)[0]?.ports?.find((p) => p.name === 'http');
      expect(http?.containerPort).toBe(Number(port.stdout));
      expect(script).toContain(`create secret generic ${service}-database`);
      // The drill's port-forward and scale targets exist under these names and ports.
      const forward = new RegExp(`port-forward service/${service} \\d+:(\\d+)`).exec(script);
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === service) as
        | (K8sObject & { spec: { ports: Array<{ port: number }> } })
        | undefined;
      expect(svc?.spec.ports[0]?.port).toBe(Number(forward?.[1]));
    },
  );

  it('the chart directory the workflow installs is the one rendered here', () => {
    expect(script).toMatch(/helm upgrade --install user-service helm\/microservice /);
    expect(chartDir.endsWith('helm/microservice')).toBe(true);
  });
});

// --------------------------------------------------------------------------------------- outage drill

const curl = optionalTool('curl', 'curl');
const jq = optionalTool('jq', 'jq');
for (const tool of [curl, jq]) {
  if (!tool.available) console.warn(`\n!!! SKIPPING the e2e-exercise.sh tests: ${tool.reason}\n`);
}

interface FakeBehaviour {
  /** Answer 201 while user-service is "down" (a broken order-service that ignores the outage). */
  acceptWhileDown?: boolean;
  /** Accept orders for users that do not exist. */
  acceptUnknownUsers?: boolean;
  /** Delay before the outage 503. */
  slow503Ms?: number;
  /** Leave out Retry-After on the 503. */
  noRetryAfter?: boolean;
  /** 503s after user-service is back (the breaker's half-open wait); Infinity never recovers. */
  recoveryFailures?: number;
}

interface Fakes {
  /** What e2e.yml gives the drill: the two base URLs and the commands that stop and start user-service. */
  env: NodeJS.ProcessEnv;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<string> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stand-ins for the two services with the HTTP behaviour the drill expects, and a switch for the outage. */
async function fakes(behaviour: FakeBehaviour = {}): Promise<Fakes> {
  const users = new Set<string>();
  let down = false;
  let failuresLeft = 0;
  const userUrl = await listen(async (req, res) => {
    if (req.url === '/health/ready')
      return send(res, down ? 503 : 200, { status: down ? 'not_ready' : 'ready' });
    if (req.method === 'POST' && req.url === '/api/v1/users') {
      const input = await body(req);
      const id = randomUUID();
      users.add(id);
      return send(res, 201, { id, ...input, created_at: new Date().toISOString() });
    }
    send(res, 404, { title: 'Not Found' });
  });
  const orderUrl = await listen(async (req, res) => {
    if (req.url === '/health/ready') return send(res, 200, { status: 'ready' });
    if (req.method === 'POST' && req.url === '/__control/stop') {
      down = true;
      return send(res, 204, null);
    }
    if (req.method === 'POST' && req.url === '/__control/start') {
      down = false;
      failuresLeft = behaviour.recoveryFailures ?? 2;
      return send(res, 204, null);
    }
    if (req.method === 'POST' && req.url === '/api/v1/orders') {
      const input = await body(req);
      const userId = String(input.user_id);
      const unavailable = (down && !behaviour.acceptWhileDown) || (!down && failuresLeft-- > 0);
      if (unavailable) {
        if (down && behaviour.slow503Ms) await sleep(behaviour.slow503Ms);
        return send(
          res,
          503,
          { title: 'user-service unavailable' },
          behaviour.noRetryAfter ? {} : { 'retry-after': '5' },
        );
      }
      if (!users.has(userId) && !behaviour.acceptUnknownUsers)
        return send(res, 404, { title: 'User not found' });
      return send(res, 201, { id: randomUUID(), user_id: userId, total_amount: 21.98, status: 'pending' });
    }
    send(res, 404, { title: 'Not Found' });
  });
  return {
    env: {
      PATH: process.env.PATH,
      USER_URL: userUrl,
      ORDER_URL: orderUrl,
      STOP_USER_SERVICE: `curl -fsS -X POST ${orderUrl}/__control/stop`,
      START_USER_SERVICE: `curl -fsS -X POST ${orderUrl}/__control/start`,
      READY_TIMEOUT_SECONDS: '10',
      RECOVERY_TIMEOUT_SECONDS: '15',
    },
  };
}

const drill = (env: NodeJS.ProcessEnv) => runCommand('bash', [join(scriptsDir, 'e2e-exercise.sh')], { env });

describe.skipIf(!curl.available || !jq.available)(
  `e2e-exercise.sh against stand-in services${curl.reason || jq.reason ? `: skipped, ${curl.reason} ${jq.reason}` : ''}`,
  () => {
    it('passes: user, order, 404, fast 503 with Retry-After while user-service is down, recovery after it returns', async () => {
      const { env } = await fakes();
      const result = await drill(env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/an order for an unknown user is 404/);
      expect(result.stdout).toMatch(/user-service down: order creation is 503 with Retry-After in [\d.]+s/);
      expect(result.stdout).toMatch(/user-service back: created order/);
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('e2e: passed');
    });

    it.each<[string, FakeBehaviour, Record<string, string>, RegExp]>([
      [
        'an order accepted while user-service is down',
        { acceptWhileDown: true },
        {},
        /expected 503, got 201/,
      ],
      [
        'an order accepted for an unknown user',
        { acceptUnknownUsers: true },
        {},
        /unknown user: expected 404, got 201/,
      ],
      [
        'a 503 that takes too long',
        { slow503Ms: 1500 },
        { MAX_503_SECONDS: '1' },
        /the 503 took [\d.]+s, more than 1s/,
      ],
      ['a 503 without Retry-After', { noRetryAfter: true }, {}, /the 503 has no Retry-After header/],
      [
        'no recovery',
        { recoveryFailures: Number.POSITIVE_INFINITY },
        { RECOVERY_TIMEOUT_SECONDS: '3' },
        /did not recover within 3s/,
      ],
    ])('fails on %s (negative)', async (_what, behaviour, extraEnv, message) => {
      const { env } = await fakes(behaviour);
      const result = await drill({ ...env, ...extraEnv });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
    });

    it('fails when a service never gets ready (negative)', async () => {
      const { env } = await fakes();
      const result = await drill({ ...env, USER_URL: 'http://127.0.0.1:9', READY_TIMEOUT_SECONDS: '2' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/127\.0\.0\.1:9\/health\/ready is 000 after 2s/);
    });
  },
);
