import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { k8sDir, repoRoot, scratchDir } from './support/deploy-paths.js';
import { ENVIRONMENTS, type EnvironmentName, namespaceOf, SERVICES } from './support/helm.js';
import { findDrift, manifestsPath, RENDER_COMMAND } from './support/k8s-render.js';
import { clone, type K8sObject, parseManifests } from './support/manifests.js';
import { kustomize, loadAllEnvironments } from './support/renders.js';

let environments: Record<EnvironmentName, K8sObject[]>;

beforeAll(async () => {
  environments = await loadAllEnvironments();
});

const kinds = (objects: K8sObject[], app: string) =>
  objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === app).map((o) => o.kind);
const configOf = (objects: K8sObject[], app: string) =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === app)?.data as Record<string, string>;

interface PodSpec {
  containers?: Array<{ env?: Array<{ name: string }> }>;
  initContainers?: Array<{ env?: Array<{ name: string }> }>;
}
/** Every FAULTS_ENABLED / FAULT_* variable a ConfigMap or a container (Deployment, Job, Pod) sets. */
function faultVariables(objects: readonly K8sObject[]): string[] {
  const found: string[] = [];
  for (const o of objects) {
    const at = `${o.kind}/${o.metadata.name}`;
    const { data, spec } = o as K8sObject & { data?: Record<string, string>; spec?: Record<string, unknown> };
    if (o.kind === 'ConfigMap') found.push(...Object.keys(data ?? {}).map((k) => `${at}: ${k}`));
    const pod = (o.kind === 'Pod' ? spec : (spec?.template as { spec?: PodSpec } | undefined)?.spec) as
      | PodSpec
      | undefined;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])])
      found.push(...(c.env ?? []).map((e) => `${at}: ${e.name}`));
  }
  return found.filter((entry) => /: FAULTS?_/.test(entry));
}

describe('one source of truth: k8s/<env>/<service>/manifests.yaml is rendered from the chart', () => {
  it('every committed file equals a fresh render (run the render script after changing the chart or values)', async () => {
    const { checked, drift } = await findDrift();
    expect(checked).toBe(ENVIRONMENTS.length * SERVICES.length);
    expect(
      drift.map((d) => `${d.path.slice(repoRoot.length + 1)} is out of date: run ${RENDER_COMMAND}`),
    ).toEqual([]);
  });

  it.each([
    [
      'a hand edit',
      'prod',
      'user-service',
      (text: string) => text.replace('maxUnavailable: 0', 'maxUnavailable: 1'),
    ],
    [
      'a values change that was not re-rendered',
      'dev',
      'order-service',
      // As if the tag in k8s/dev/order-service/values.yaml had been bumped without rendering.
      (text: string) => text.replaceAll('order-service:1.0.0', 'order-service:0.9.0'),
    ],
  ] as const)('detects %s (negative)', async (_what, env, service, edit) => {
    const target = manifestsPath(env, service);
    const { drift } = await findDrift(async (path) => {
      const text = await readFile(path, 'utf8');
      return path === target ? edit(text) : text;
    });
    expect(drift.map((d) => d.path)).toEqual([target]);
  });

  it('the source files contain no hand-written resource: every env only lists the namespace and the rendered services', async () => {
    for (const env of ENVIRONMENTS) {
      const kustomization = parse(await readFile(join(k8sDir, env, 'kustomization.yaml'), 'utf8'));
      expect(kustomization.resources).toEqual(['namespace.yaml', 'user-service', 'order-service']);
      for (const service of SERVICES) {
        const inner = parse(await readFile(join(k8sDir, env, service, 'kustomization.yaml'), 'utf8'));
        expect(inner.resources).toEqual(['manifests.yaml']);
      }
    }
  });
});

describe('kubectl kustomize (what kubectl apply -k and Argo CD build, no --enable-helm)', () => {
  it.each(ENVIRONMENTS)('builds k8s/%s into its namespace plus both services', async (env) => {
    const objects = environments[env];
    const namespace = objects.find((o) => o.kind === 'Namespace');
    expect(namespace?.metadata.name).toBe(namespaceOf(env));
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects.filter((x) => x.kind !== 'Namespace'))
      expect(o.metadata.namespace).toBe(namespaceOf(env));
    const rendered = SERVICES.flatMap((s) => parseManifests(readFileSync(manifestsPath(env, s), 'utf8'), s));
    expect(objects.length).toBe(rendered.length + 1);
  });

  it('fails on a kustomization that references a missing file (negative)', async () => {
    const dir = join(scratchDir, 'broken-kustomization');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'kustomization.yaml'), 'resources:\n  - manifests.yaml\n');
    const result = await kustomize(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/manifests.yaml/);
  });
});

describe('environment policy', () => {
  it('dev: one pod per service on the embedded store, no database objects', () => {
    const dev = environments.dev;
    for (const app of SERVICES) {
      const d = dev.find((o) => o.kind === 'Deployment' && o.metadata.name === app) as K8sObject & {
        spec: { replicas: number };
      };
      expect(d.spec.replicas).toBe(1);
      expect(JSON.stringify(d)).not.toContain('DATABASE_URL');
      expect(kinds(dev, app)).not.toContain('Cluster');
    }
  });

  it('staging: a CloudNativePG Cluster per service, two pods, a PDB, monitoring', () => {
    for (const app of SERVICES) {
      expect(kinds(environments.staging, app)).toEqual(
        expect.arrayContaining([
          'Cluster',
          'PodDisruptionBudget',
          'ServiceMonitor',
          'PrometheusRule',
          'NetworkPolicy',
        ]),
      );
    }
  });

  it('prod: HPA and PDB on for both services, databases from existing Secrets, faults never on', () => {
    for (const app of SERVICES) {
      expect(kinds(environments.prod, app)).toEqual(
        expect.arrayContaining(['HorizontalPodAutoscaler', 'PodDisruptionBudget']),
      );
      const d = environments.prod.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === app,
      ) as K8sObject & {
        spec: {
          template: { spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: unknown }> }> } };
        };
      };
      const url = d.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'DATABASE_URL');
      expect(url?.valueFrom).toEqual({ secretKeyRef: { name: `${app}-database`, key: 'uri' } });
    }
  });

  it('no environment turns fault injection on: no FAULT* variable in any ConfigMap or container, dev included', () => {
    for (const env of ENVIRONMENTS) {
      expect(faultVariables(environments[env]), `k8s/${env}`).toEqual([]);
      for (const app of SERVICES) expect(configOf(environments[env], app)).toHaveProperty('PORT');
    }
  });

  it('finds a FAULT* variable set through the ConfigMap or a container env (negative)', () => {
    const viaConfigMap = clone(environments.staging);
    const config = viaConfigMap.find((o) => o.kind === 'ConfigMap') as K8sObject & {
      data: Record<string, string>;
    };
    config.data.FAULTS_ENABLED = 'true';
    expect(faultVariables(viaConfigMap)).toEqual([`ConfigMap/${config.metadata.name}: FAULTS_ENABLED`]);
    const viaEnv = clone(environments.prod);
    const deployment = viaEnv.find((o) => o.kind === 'Deployment') as K8sObject & {
      spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
    };
    deployment.spec.template.spec.containers[0]?.env?.push({ name: 'FAULT_MODE', value: 'down' });
    expect(faultVariables(viaEnv)).toEqual([`Deployment/${deployment.metadata.name}: FAULT_MODE`]);
  });

  it('the image tag and digest of each service come from k8s/<env>/<service>/values.yaml, the registry/owner from values-common.yaml', async () => {
    const common = parse(await readFile(join(k8sDir, 'values-common.yaml'), 'utf8'));
    for (const env of ENVIRONMENTS) {
      for (const app of SERVICES) {
        const { image } = parse(await readFile(join(k8sDir, env, app, 'values.yaml'), 'utf8'));
        const ref = `${common.image.registry}/${common.image.owner}/${app}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
        const d = environments[env].find((o) => o.kind === 'Deployment' && o.metadata.name === app);
        expect(JSON.stringify(d)).toContain(`"image":"${ref}"`);
      }
    }
  });

  it('hooks per environment: the PostSync smoke Job in dev and staging only, no wait Job anywhere, the migration where a database exists', () => {
    for (const env of ENVIRONMENTS) {
      const jobs = environments[env]
        .filter((o) => o.kind === 'Job')
        .map((o) => o.metadata.labels?.['app.kubernetes.io/component']);
      expect(
        jobs.filter((c) => c === 'smoke-test'),
        env,
      ).toHaveLength(env === 'prod' ? 0 : 2);
      expect(
        jobs.filter((c) => c === 'wait'),
        env,
      ).toHaveLength(0);
      expect(jobs.filter((c) => c === 'migrate')).toHaveLength(env === 'dev' ? 0 : 2);
    }
    // kubectl apply runs no hooks first, so k8s/ pods also migrate on start.
    expect(configOf(environments.prod, 'user-service').DB_MIGRATE_ON_START).toBe('true');
  });
});
