import { beforeAll, describe, expect, it } from 'vitest';
import { combinations, ENVIRONMENTS } from './support/helm.js';
import { clone, type K8sObject } from './support/manifests.js';
import { modelFor } from './support/models.js';
import { loadAllEnvironments, loadArgoCd, renderAllCombinations } from './support/renders.js';
import { type LabelledObject, typeCheckObjects } from './support/typed-literals.js';
import { validateAll, validateObject } from './support/validate.js';

let documents: LabelledObject[] = [];

beforeAll(async () => {
  const [rendered, environments, argocd] = await Promise.all([
    renderAllCombinations(),
    loadAllEnvironments(),
    loadArgoCd(),
  ]);
  documents = [
    ...rendered.flatMap(({ combination, objects }) =>
      objects.map((object) => ({ origin: `chart: ${combination.name}`, object })),
    ),
    ...ENVIRONMENTS.flatMap((env) => environments[env].map((object) => ({ origin: `k8s/${env}`, object }))),
    ...argocd.map((object) => ({ origin: 'k8s/argocd', object })),
  ];
});

const deployment = (): K8sObject => {
  const found = documents.find((d) => d.object.kind === 'Deployment');
  if (!found) throw new Error('no Deployment rendered');
  return clone(found.object);
};

describe('schema validation (Kubernetes 1.30+ models, Argo CD, Prometheus Operator, Gateway API, CloudNativePG, External Secrets, cert-manager)', () => {
  it('covers every combination, every environment and the Argo CD manifests', () => {
    const origins = new Set(documents.map((d) => d.origin));
    expect(origins.size).toBe(combinations().length + ENVIRONMENTS.length + 1);
    const kinds = new Set(documents.map((d) => d.object.kind));
    for (const kind of [
      'Deployment',
      'Job',
      'Pod',
      'Cluster',
      'ScheduledBackup',
      'ExternalSecret',
      'Certificate',
      'ServiceMonitor',
      'PrometheusRule',
      'HTTPRoute',
      'ApplicationSet',
      'AppProject',
      'Namespace',
    ]) {
      expect(kinds).toContain(kind);
    }
    console.warn(`deploy-tests: ${documents.length} documents from ${origins.size} renders validated`);
  });

  it('every document matches its schema', async () => {
    const problems = await validateAll(documents.map((d) => d.object));
    expect(problems).toEqual([]);
  });

  it('every document type-checks as its TypeScript model: no unknown fields, no wrong types', async () => {
    const result = await typeCheckObjects('all', documents);
    expect(result.problems).toEqual([]);
    // Only the kinds without a model (CloudNativePG, External Secrets, cert-manager) lack an interface; their
    // upstream CRD schemas, closed, cover unknown fields instead.
    expect(result.checked).toBe(
      documents.filter((d) => modelFor(d.object.apiVersion, d.object.kind) !== null).length,
    );
    console.warn(`deploy-tests: ${result.checked} documents type-checked as typed literals (tsc --strict)`);
  });
});

describe('the validators fail on broken documents (negative tests)', () => {
  it('a wrong type fails schema validation', async () => {
    const broken = deployment() as K8sObject & { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect((await validateObject(broken)).join()).toMatch(/replicas must be integer/);
  });

  it('a missing required field fails schema validation', async () => {
    const broken = deployment() as K8sObject & { spec: { selector?: unknown } };
    delete broken.spec.selector;
    expect((await validateObject(broken)).join()).toMatch(/selector/);
  });

  it('a misspelled field (livenesProbe) fails the typed-literal check', async () => {
    const broken = deployment() as K8sObject & {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    const container = broken.spec.template.spec.containers[0] as Record<string, unknown>;
    container.livenesProbe = container.livenessProbe;
    delete container.livenessProbe;
    const result = await typeCheckObjects('negative', [{ origin: 'broken', object: broken }]);
    expect(result.problems.join('\n')).toMatch(/broken: Deployment\/.*TS2353.*livenesProbe/);
  });

  it('an unknown field in a CRD (ServiceMonitor) fails the typed-literal check', async () => {
    const sm = documents.find((d) => d.object.kind === 'ServiceMonitor');
    const broken = clone(sm?.object as K8sObject) as K8sObject & { spec: Record<string, unknown> };
    broken.spec.endpoint = broken.spec.endpoints;
    const result = await typeCheckObjects('negative-crd', [{ origin: 'broken', object: broken }]);
    expect(result.problems.join('\n')).toMatch(/TS2353.*endpoint/);
  });

  it('an unknown or mistyped CloudNativePG field fails its schema', async () => {
    const cluster = documents.find((d) => d.object.kind === 'Cluster');
    const unknown = clone(cluster?.object as K8sObject) as K8sObject & { spec: Record<string, unknown> };
    unknown.spec.instance = 3;
    expect((await validateObject(unknown)).join()).toMatch(/additionalProperty.*instance/);
    const mistyped = clone(cluster?.object as K8sObject) as K8sObject & { spec: Record<string, unknown> };
    mistyped.spec.instances = 'three';
    expect((await validateObject(mistyped)).join()).toMatch(/instances.*integer/);
  });

  it('a kind without a known schema is reported, not skipped', async () => {
    await expect(
      validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
    ).rejects.toThrow(/no schema known/);
  });
});
