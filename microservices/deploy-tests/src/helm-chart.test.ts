import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseUserServiceEnv } from '../../user-service/src/env.js';
import { chartDir, scratchDir } from './support/deploy-paths.js';
import {
  type Combination,
  ciValues,
  combinations,
  helmLint,
  helmNotes,
  helmTemplate,
  presetValues,
  renderObjects,
} from './support/helm.js';
import { type K8sObject, one } from './support/manifests.js';
import { ensureTools } from './support/tools.js';

const user = (extra: Partial<Combination> = {}): Combination => ({
  name: 'user-service',
  release: 'user-service',
  namespace: 'shop',
  valuesFiles: [presetValues('user-service')],
  ...extra,
});
const order = (extra: Partial<Combination> = {}): Combination => ({
  name: 'order-service',
  release: 'order-service',
  namespace: 'shop',
  valuesFiles: [presetValues('order-service')],
  ...extra,
});
const withDatabase = ['postgresql.existingSecret.name=shop-db'];

async function writeValues(name: string, yaml: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(scratchDir, { recursive: true });
  const file = join(scratchDir, `${name}.yaml`);
  await writeFile(file, yaml);
  return file;
}

const annotations = (o: K8sObject) => o.metadata.annotations ?? {};
const jobs = (objects: K8sObject[], component: string) =>
  objects.filter((o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/component'] === component);
const deploymentOf = (objects: K8sObject[]) =>
  one(objects, 'Deployment') as K8sObject & {
    spec: {
      replicas?: number;
      template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> };
    };
  };
const configOf = (objects: K8sObject[]) => one(objects, 'ConfigMap').data as Record<string, string>;

beforeAll(async () => {
  await ensureTools();
});

describe('helm lint --strict', () => {
  it.each(combinations().map((c) => [c.name, c] as const))('passes for %s', async (_name, combination) => {
    const result = await helmLint(combination);
    expect(result.output).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  // Negative tests: the strict values.schema.json turns each mistake into a lint failure.
  it.each([
    ['a misspelled key', 'image:\n  tagg: "1.0.0"\n', /additional properties 'tagg' not allowed/],
    ['an unknown top-level key', 'replicas: 3\n', /additional properties 'replicas' not allowed/],
    ['a wrong type', 'replicaCount: two\n', /replicaCount/],
    ['a malformed digest', 'image:\n  digest: sha256:abc\n', /digest/],
    ['fault injection in prod', 'environment: prod\nfaults:\n  enabled: true\n', /faults\/enabled/],
    ['a fault mode the services do not know', 'faults:\n  mode: delay\n', /faults\/mode/],
    ['a malformed fault delay range', 'faults:\n  delayMs: 200..800\n', /faults\/delayMs/],
    ['a fault delay above 120000 ms', 'faults:\n  delayMs: 200000\n', /faults\/delayMs/],
    ['a fault error rate above 1', 'faults:\n  errorRate: 1.5\n', /faults\/errorRate/],
    [
      'two database sources',
      'postgresql:\n  existingSecret:\n    name: db\n  cnpg:\n    enabled: true\n',
      /postgresql/,
    ],
    [
      'an open-ended extraEnv entry',
      'extraEnv:\n  enabled: true\n  env:\n    - name: A\n      vaule: b\n',
      /vaule/,
    ],
    ['pull secrets enabled without names', 'imagePullSecrets:\n  enabled: true\n', /names/],
  ])('fails on %s', async (name, yaml, message) => {
    const file = await writeValues(`lint-${name.replaceAll(' ', '-')}`, yaml);
    const result = await helmLint(user({ valuesFiles: [presetValues('user-service'), file] }));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(message);
  });
});

describe('values.schema.json', () => {
  /** Every object schema either closes (additionalProperties: false) or types its values (a label map). */
  function openObjects(schema: unknown, path = '#'): string[] {
    if (typeof schema !== 'object' || schema === null) return [];
    const node = schema as Record<string, unknown>;
    const found: string[] = [];
    if ((node.type === 'object' || node.properties) && node.additionalProperties === undefined)
      found.push(path);
    for (const [key, value] of Object.entries(node)) {
      // Conditional subschemas constrain values already shaped elsewhere; they are not shapes themselves.
      if (['if', 'then', 'else', 'not'].includes(key)) continue;
      if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) found.push(...openObjects(v, `${path}/${key}/${i}`));
      } else if (typeof value === 'object') found.push(...openObjects(value, `${path}/${key}`));
    }
    return found;
  }

  it('closes every object, so no key can be mistyped silently', async () => {
    const schema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8'));
    expect(openObjects(schema)).toEqual([]);
  });

  it('the closure check finds an open object (negative)', () => {
    expect(
      openObjects({
        type: 'object',
        properties: { a: { type: 'object', properties: {} } },
        additionalProperties: false,
      }),
    ).toEqual(['#/properties/a']);
  });

  it('renders no `<no value>` (a top-level undefined value that --strict does not catch)', async () => {
    for (const combination of combinations())
      expect(await helmTemplate(combination)).not.toContain('<no value>');
  });
});

describe('NOTES.txt', () => {
  it('tells how to reach /docs and warns that the embedded store runs one replica', async () => {
    const notes = await helmNotes(user());
    expect(notes).toContain('kubectl -n shop port-forward svc/user-service 8000:8000');
    expect(notes).toContain('http://localhost:8000/docs');
    expect(notes).toMatch(/EMBEDDED IN-MEMORY STORE/);
    expect(notes).toMatch(/exactly 1 replica/);
  });

  it('names the database Secret and the public /docs URL when an Ingress is on', async () => {
    const notes = await helmNotes(
      order({ valuesFiles: [presetValues('order-service'), ciValues('all-features')] }),
    );
    expect(notes).toContain('https://api.example.com/docs');
    expect(notes).toContain('DATABASE_URL from Secret service-database');
    expect(notes).not.toMatch(/EMBEDDED/);
    expect(notes).toContain('user-service is called at http://user-service.shop.svc.cluster.local:8000');
  });

  it('warns when fault injection is on, and only then', async () => {
    expect(await helmNotes(user({ set: ['faults.enabled=true', 'faults.mode=slow'] }))).toMatch(
      /WARNING: fault injection is ON \(start-up mode slow\)[\s\S]*PUT \/admin\/faults/,
    );
    expect(await helmNotes(user())).not.toMatch(/fault injection/i);
  });
});

describe('chart behaviour', () => {
  it('forces one replica with the embedded store, whatever replicaCount says', async () => {
    const objects = await renderObjects(
      user({ set: ['replicaCount=5', 'podDisruptionBudget.enabled=true'] }),
    );
    expect(deploymentOf(objects).spec.replicas).toBe(1);
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(configOf(objects)).not.toHaveProperty('DATABASE_URL');
    expect(JSON.stringify(deploymentOf(objects))).not.toContain('DATABASE_REQUIRED');
  });

  it('runs replicaCount pods and a PodDisruptionBudget once a database is configured', async () => {
    const objects = await renderObjects(
      user({ set: [...withDatabase, 'replicaCount=3', 'podDisruptionBudget.enabled=true'] }),
    );
    expect(deploymentOf(objects).spec.replicas).toBe(3);
    expect(one(objects, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('refuses autoscaling on the embedded store', async () => {
    await expect(renderObjects(user({ set: ['autoscaling.enabled=true'] }))).rejects.toThrow(
      /autoscaling needs a database/,
    );
  });

  it('refuses fault injection in prod even past the schema (template guard)', async () => {
    await expect(renderObjects(user({ set: ['environment=prod', 'faults.enabled=true'] }))).rejects.toThrow(
      /faults/,
    );
  });

  it('maps the faults block to FAULT_* variables the services accept, and leaves them out when off', async () => {
    const faults = await writeValues(
      'faults-on',
      'faults:\n  enabled: true\n  mode: slow\n  delayMs: 200-800\n  errorRate: 0.25\n',
    );
    const on = configOf(await renderObjects(user({ valuesFiles: [presetValues('user-service'), faults] })));
    expect(on).toMatchObject({
      FAULTS_ENABLED: 'true',
      FAULT_MODE: 'slow',
      FAULT_DELAY_MS: '200-800',
      FAULT_ERROR_RATE: '0.25',
    });
    // What the service's own env parser makes of the ConfigMap (the chart and the kit agree on the format).
    expect(parseUserServiceEnv(on)).toMatchObject({
      FAULTS_ENABLED: true,
      FAULT_MODE: 'slow',
      FAULT_DELAY_MS: { min: 200, max: 800 },
      FAULT_ERROR_RATE: 0.25,
    });
    // Only `enabled`: the chart's defaults are the services' defaults (normal, 1000 ms, 0.5).
    const defaults = configOf(await renderObjects(user({ set: ['faults.enabled=true'] })));
    expect(defaults).toMatchObject({ FAULT_MODE: 'normal', FAULT_DELAY_MS: '1000', FAULT_ERROR_RATE: '0.5' });
    const fixed = configOf(
      await renderObjects(user({ set: ['faults.enabled=true', 'faults.mode=down', 'faults.delayMs=1500'] })),
    );
    expect(fixed).toMatchObject({ FAULT_MODE: 'down', FAULT_DELAY_MS: '1500' });
    const off = configOf(await renderObjects(user()));
    expect(Object.keys(off).filter((k) => k.startsWith('FAULT'))).toEqual([]);
  });

  it('writes a small error rate as a plain decimal, which the service parses (Go would print 1e-05)', async () => {
    const rare = await writeValues('faults-rare', 'faults:\n  enabled: true\n  errorRate: 0.00001\n');
    const config = configOf(await renderObjects(user({ valuesFiles: [presetValues('user-service'), rare] })));
    expect(config.FAULT_ERROR_RATE).toBe('0.00001');
    expect(parseUserServiceEnv(config).FAULT_ERROR_RATE).toBe(0.00001);
  });

  it.each([
    ['backwards', '800-200'],
    ['above 120000 ms', '100-200000'],
  ])('refuses a fault delay range %s, which the schema cannot see (template guard)', async (_name, range) => {
    await expect(
      renderObjects(user({ set: ['faults.enabled=true', `faults.delayMs=${range}`] })),
    ).rejects.toThrow(/faults.delayMs .* must be low-high and at most 120000 ms/);
  });

  it('maps config server limits to MAX_CONNECTIONS, MAX_*_REQUESTS, the timeouts and the body rate, which the service accepts', async () => {
    const defaults = configOf(await renderObjects(user()));
    expect(defaults).toMatchObject({
      MAX_CONNECTIONS: '768',
      MAX_INFLIGHT_REQUESTS: '256',
      MAX_PIPELINED_REQUESTS: '4',
      HEADERS_TIMEOUT_MS: '10000',
      REQUEST_TIMEOUT_MS: '30000',
      SEND_TIMEOUT_MS: '30000',
      MIN_BODY_BYTES_PER_SECOND: '1024',
    });
    expect(parseUserServiceEnv(defaults)).toMatchObject({
      MAX_CONNECTIONS: 768,
      MAX_INFLIGHT_REQUESTS: 256,
      MAX_PIPELINED_REQUESTS: 4,
      HEADERS_TIMEOUT_MS: 10_000,
      REQUEST_TIMEOUT_MS: 30_000,
      SEND_TIMEOUT_MS: 30_000,
      MIN_BODY_BYTES_PER_SECOND: 1024,
    });
    const set = [
      'config.maxConnections=1000000',
      'config.maxInflightRequests=1',
      'config.maxPipelinedRequests=128',
      'config.headersTimeoutMs=600000',
      'config.requestTimeoutMs=600000',
      'config.sendTimeoutMs=1000',
      'config.minBodyBytesPerSecond=0',
    ];
    const edges = configOf(await renderObjects(user({ set })));
    expect(parseUserServiceEnv(edges)).toMatchObject({
      MAX_CONNECTIONS: 1_000_000,
      MAX_INFLIGHT_REQUESTS: 1,
      MAX_PIPELINED_REQUESTS: 128,
      HEADERS_TIMEOUT_MS: 600_000,
      REQUEST_TIMEOUT_MS: 600_000,
      SEND_TIMEOUT_MS: 1000,
      MIN_BODY_BYTES_PER_SECOND: 0,
    });
  });

  it.each([
    ['config.maxConnections=0'],
    ['config.maxConnections=1000001'],
    ['config.maxInflightRequests=100001'],
    ['config.maxPipelinedRequests=129'],
    ['config.headersTimeoutMs=999'],
    ['config.requestTimeoutMs=600001'],
    ['config.sendTimeoutMs=999'],
    ['config.minBodyBytesPerSecond=-1'],
    ['config.minBodyBytesPerSecond=1000000001'],
    ['config.maxConnections=12.5'],
  ])('the schema refuses the server limit %s (outside what the service accepts)', async (value) => {
    await expect(renderObjects(user({ set: [value] }))).rejects.toThrow(/schema/);
  });

  it('refuses headersTimeoutMs above requestTimeoutMs at render time (Node would refuse them together)', async () => {
    await expect(
      renderObjects(user({ set: ['config.headersTimeoutMs=40000', 'config.requestTimeoutMs=30000'] })),
    ).rejects.toThrow(/config.headersTimeoutMs \(40000\) must be at most config.requestTimeoutMs \(30000\)/);
  });

  it('rolls the pods when the configuration changes (checksum annotation)', async () => {
    const checksum = async (set: string[]) =>
      deploymentOf(await renderObjects(user({ set }))).spec.template.metadata.annotations['checksum/config'];
    expect(await checksum([])).toBe(await checksum([]));
    expect(await checksum(['config.logLevel=debug'])).not.toBe(await checksum([]));
  });

  it('sets the grace period from preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS, and can drop the native sleep', async () => {
    const on = deploymentOf(
      await renderObjects(user({ set: ['shutdown.delayMs=2500', 'shutdown.timeoutMs=20000'] })),
    );
    expect(on.spec.template.spec.terminationGracePeriodSeconds).toBe(5 + 23 + 5);
    const off = deploymentOf(
      await renderObjects(user({ valuesFiles: [presetValues('user-service'), ciValues('preStop-off')] })),
    );
    expect(off.spec.template.spec.terminationGracePeriodSeconds).toBe(15 + 5);
    expect(JSON.stringify(off.spec.template.spec)).not.toContain('preStop');
  });

  it('pins the image by digest when one is given', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const objects = await renderObjects(
      user({ set: [`image.digest=${digest}`, 'image.tag=2.0.0', 'image.owner=acme'] }),
    );
    expect(JSON.stringify(deploymentOf(objects))).toContain(`ghcr.io/acme/user-service:2.0.0@${digest}`);
  });

  it('reads DATABASE_URL from the existing Secret and migrates in a pre-install/pre-upgrade + PreSync hook', async () => {
    const objects = await renderObjects(
      user({ set: ['postgresql.existingSecret.name=users-db', 'postgresql.existingSecret.key=url'] }),
    );
    expect(JSON.stringify(deploymentOf(objects))).toContain(
      '{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"users-db","key":"url"}}}',
    );
    const [job] = jobs(objects, 'migrate');
    expect(job && annotations(job)).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'argocd.argoproj.io/hook': 'PreSync',
    });
    expect(JSON.stringify(job?.spec)).toContain('"args":["dist/migrate.js"]');
    // The Job migrates before the pods roll, so the pods need not (auto → false).
    expect(configOf(objects).DB_MIGRATE_ON_START).toBe('false');
  });

  it('creates a CloudNativePG Cluster, reads its -app Secret uri, and migrates after the Cluster exists', async () => {
    const objects = await renderObjects(user({ set: ['postgresql.cnpg.enabled=true'] }));
    expect(one(objects, 'Cluster').metadata.name).toBe('user-service-db');
    expect(JSON.stringify(deploymentOf(objects))).toContain(
      '"secretKeyRef":{"name":"user-service-db-app","key":"uri"}',
    );
    const [job] = jobs(objects, 'migrate');
    expect(job && annotations(job)).toMatchObject({
      'helm.sh/hook': 'post-install,pre-upgrade',
      'argocd.argoproj.io/hook': 'Sync',
    });
    expect(Number(annotations(one(objects, 'Cluster'))['argocd.argoproj.io/sync-wave'])).toBeLessThan(
      Number(job && annotations(job)['argocd.argoproj.io/sync-wave']),
    );
    expect(configOf(objects).DB_MIGRATE_ON_START).toBe('true');
  });

  it('renders every optional resource only when enabled', async () => {
    const plain = (await renderObjects(order())).map((o) => o.kind).sort();
    expect(plain).toEqual(['ConfigMap', 'Deployment', 'Pod', 'Service', 'ServiceAccount']);
    const all = new Set(
      (
        await renderObjects(order({ valuesFiles: [presetValues('order-service'), ciValues('all-features')] }))
      ).map((o) => o.kind),
    );
    for (const kind of [
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'ServiceMonitor',
      'PrometheusRule',
      'Ingress',
      'HTTPRoute',
      'Job',
    ]) {
      expect(all).toContain(kind);
    }
  });
});
