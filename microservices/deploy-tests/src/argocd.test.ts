import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkApplications,
  checkAppOrdering,
  checkProject,
  checkSyncOrder,
  expandApplicationSet,
  type GeneratedApp,
} from './support/argocd.js';
import { k8sDir } from './support/deploy-paths.js';
import { ENVIRONMENTS, type EnvironmentName, namespaceOf, SERVICES } from './support/helm.js';
import { at, clone, type K8sObject, one, put } from './support/manifests.js';
import { loadAllEnvironments, loadArgoCd, renderAllCombinations } from './support/renders.js';

let argocd: K8sObject[] = [];
let apps: GeneratedApp[] = [];
let environments: Record<EnvironmentName, K8sObject[]>;
let allFeatureObjects: K8sObject[] = [];
const namespaces = Object.fromEntries(ENVIRONMENTS.map((env) => [env, namespaceOf(env)]));

beforeAll(async () => {
  const [a, e, rendered] = await Promise.all([loadArgoCd(), loadAllEnvironments(), renderAllCombinations()]);
  argocd = a;
  environments = e;
  apps = expandApplicationSet(one(argocd, 'ApplicationSet'));
  // What a user may turn on through the values is allowed by the project too (the helm test Pod is helm-only).
  allFeatureObjects = rendered
    .filter((r) => r.combination.name.includes('all features'))
    .flatMap((r) => r.objects)
    .filter((o) => o.kind !== 'Pod');
});

const appObjects = (env: EnvironmentName, service: string) =>
  environments[env].filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === service);

describe('Argo CD: AppProject and ApplicationSet', () => {
  it('kustomize builds exactly an AppProject and an ApplicationSet', () => {
    expect(argocd.map((o) => o.kind).sort()).toEqual(['AppProject', 'ApplicationSet']);
  });

  it('generates one Application per service per environment: automated prune+selfHeal in dev/staging, manual in prod', () => {
    expect(apps.map((a) => a.name).sort()).toEqual(
      ENVIRONMENTS.flatMap((env) => SERVICES.map((s) => `${s}-${env}`)).sort(),
    );
    expect(checkApplications(apps, namespaces)).toEqual([]);
  });

  it('the destination namespaces are the ones the k8s/ manifests render into', () => {
    for (const env of ENVIRONMENTS) {
      const used = new Set(environments[env].map((o) => o.metadata.namespace ?? o.metadata.name));
      expect([...used]).toEqual([namespaceOf(env)]);
    }
  });

  it('the AppProject allows this repository, the three namespaces and every kind the Applications sync', () => {
    const synced = [...ENVIRONMENTS.flatMap((env) => environments[env]), ...allFeatureObjects];
    expect(checkProject(one(argocd, 'AppProject'), apps, synced)).toEqual([]);
  });

  it('the repository URL and target revision are written once, in applicationset.yaml', async () => {
    const files = (await readdir(join(k8sDir, 'argocd'))).filter((f) => f.endsWith('.yaml'));
    const texts = await Promise.all(files.map((f) => readFile(join(k8sDir, 'argocd', f), 'utf8')));
    const url = apps[0]?.spec.source.repoURL ?? '';
    expect(texts.join('\n').split(url).length - 1).toBe(1);
    expect(texts.join('\n').match(/targetRevision:/g)).toHaveLength(1);
    expect(new Set(apps.map((a) => `${a.spec.source.repoURL}@${a.spec.source.targetRevision}`)).size).toBe(1);
  });

  it('orders each Application: config first, database, migrations, then pods; no hook waits for the other service; smoke test after, except in prod', () => {
    for (const env of ENVIRONMENTS) {
      for (const service of SERVICES)
        expect(checkSyncOrder(service, appObjects(env, service), { smoke: env !== 'prod' })).toEqual([]);
    }
  });

  it('orders the two apps by Argo CD (RollingSync): user-service before order-service in dev and staging, prod left to manual syncs', () => {
    expect(checkAppOrdering(one(argocd, 'ApplicationSet'), apps)).toEqual([]);
  });
});

describe('Argo CD checks fail on broken manifests (negative tests)', () => {
  const mutatedApps = (edits: Array<[path: string, value: unknown]>) => {
    const appset = clone(one(argocd, 'ApplicationSet'));
    for (const [path, value] of edits) put(appset, path, value);
    return expandApplicationSet(appset);
  };

  it('prod syncing automatically', () => {
    const broken = mutatedApps([['spec.generators.0.matrix.generators.0.list.elements.2.autoSync', true]]);
    expect(checkApplications(broken, namespaces).join()).toMatch(
      /prod must only sync when someone presses Sync/,
    );
  });

  it('staging without selfHeal', () => {
    const patch = String(at(one(argocd, 'ApplicationSet'), 'spec.templatePatch'));
    const broken = mutatedApps([['spec.templatePatch', patch.replace('selfHeal: true', 'selfHeal: false')]]);
    expect(checkApplications(broken, namespaces).join()).toMatch(/staging must sync automatically/);
  });

  it('a path that is not a kustomize directory and a namespace the manifests do not use', () => {
    const broken = mutatedApps([
      ['spec.template.spec.source.path', 'k8s/{{ .env }}/{{ .service }}-app'],
      ['spec.template.spec.destination.namespace', '{{ .env }}'],
    ]);
    const problems = checkApplications(broken, namespaces).join();
    expect(problems).toMatch(/is not the kustomize directory/);
    expect(problems).toMatch(/destination namespace dev/);
  });

  it('a project that lacks a synced kind, a destination, or the repository', () => {
    const project = clone(one(argocd, 'AppProject'));
    const whitelist = at(project, 'spec.namespaceResourceWhitelist') as Array<{ kind: string }>;
    put(
      project,
      'spec.namespaceResourceWhitelist',
      whitelist.filter((r) => r.kind !== 'Job'),
    );
    put(project, 'spec.destinations.2', undefined);
    put(project, 'spec.sourceRepos', ['https://github.com/someone/else.git']);
    const problems = checkProject(project, apps, environments.prod).join('\n');
    expect(problems).toMatch(/lacks batch\/Job/);
    expect(problems).toMatch(/destination microservices-prod/);
    expect(problems).toMatch(/sourceRepos/);
  });

  it('order-service with a hook that waits for user-service, a smoke hook in prod, or a migration outside PreSync', () => {
    const objects = clone(appObjects('prod', 'order-service'));
    const wait = allFeatureObjects.find(
      (o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/component'] === 'wait',
    ) as K8sObject;
    expect(wait).toBeDefined();
    expect(checkSyncOrder('order-service', [...objects, wait], { smoke: false }).join()).toMatch(
      /waits for user-service, coupling the two apps/,
    );
    const smoke = appObjects('staging', 'order-service').find(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'smoke-test',
    ) as K8sObject;
    expect(checkSyncOrder('order-service', [...objects, smoke], { smoke: false }).join()).toMatch(
      /smoke test hook where the environment wants none/,
    );
    const migrate = objects.find(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'migrate',
    ) as K8sObject;
    (migrate.metadata.annotations as Record<string, string>)['argocd.argoproj.io/hook'] = 'PostSync';
    expect(checkSyncOrder('order-service', objects, { smoke: false }).join()).toMatch(
      /migration must be a PreSync hook/,
    );
  });

  it('a CloudNativePG migration that runs before its Cluster', () => {
    const objects = clone(appObjects('staging', 'user-service'));
    const cluster = objects.find((o) => o.kind === 'Cluster') as K8sObject;
    (cluster.metadata.annotations as Record<string, string>)['argocd.argoproj.io/sync-wave'] = '5';
    expect(checkSyncOrder('user-service', objects, { smoke: true }).join()).toMatch(
      /between the Cluster and the Deployment/,
    );
  });

  it('apps synced in the wrong order, or unordered (no RollingSync)', () => {
    const swapped = clone(one(argocd, 'ApplicationSet'));
    const steps = at(swapped, 'spec.strategy.rollingSync.steps') as unknown[];
    steps.reverse();
    expect(checkAppOrdering(swapped, expandApplicationSet(swapped)).join()).toMatch(
      /order-service-dev is not synced after user-service-dev/,
    );
    const unordered = clone(one(argocd, 'ApplicationSet'));
    delete (unordered.spec as Record<string, unknown>).strategy;
    expect(checkAppOrdering(unordered, expandApplicationSet(unordered)).join()).toMatch(/not RollingSync/);
  });

  it('a RollingSync step spanning dev and staging (a broken staging app would hold dev back)', () => {
    const spanning = clone(one(argocd, 'ApplicationSet'));
    put(spanning, 'spec.strategy.rollingSync.steps', [
      {
        matchExpressions: [
          { key: 'service', operator: 'In', values: ['user-service'] },
          { key: 'environment', operator: 'In', values: ['dev', 'staging'] },
        ],
      },
      {
        matchExpressions: [
          { key: 'service', operator: 'In', values: ['order-service'] },
          { key: 'environment', operator: 'In', values: ['dev', 'staging'] },
        ],
      },
    ]);
    expect(checkAppOrdering(spanning, expandApplicationSet(spanning)).join()).toMatch(
      /RollingSync step 0 spans environments dev, staging/,
    );
  });

  it('a template field no generator sets', () => {
    expect(() => mutatedApps([['spec.template.metadata.name', '{{ .service }}-{{ .stage }}']])).toThrow(
      /\.stage/,
    );
  });
});
