import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENTS, type EnvironmentName, SERVICES, type ServiceName } from './support/helm.js';
import { checkImages } from './support/image-checks.js';
import { at, clone, type K8sObject, put } from './support/manifests.js';
import { checkNetworkPolicies, checkUserServiceLink } from './support/network-checks.js';
import { loadAllEnvironments, type Rendered, renderAllCombinations } from './support/renders.js';
import { checkNoFaultsInProd, checkSecurityContexts } from './support/security-checks.js';
import { loadServiceFacts, type ServiceFacts } from './support/services.js';
import { checkWiring } from './support/wiring-checks.js';
import { checkAgainstService, checkDeployments, checkReplicaRules } from './support/workload-checks.js';

let rendered: Rendered[] = [];
let environments: Record<EnvironmentName, K8sObject[]>;
let facts: Record<ServiceName, ServiceFacts>;
/** Both services rendered into one namespace, as a cluster would see them. */
let pairs: Array<{ name: string; objects: K8sObject[] }> = [];

const EXPECTED_IMAGES = { registry: 'ghcr.io', owner: 'example-org' };

beforeAll(async () => {
  [rendered, environments, facts] = await Promise.all([
    renderAllCombinations(),
    loadAllEnvironments(),
    loadServiceFacts(),
  ]);
  const pairOf = (suffix: string) =>
    rendered
      .filter((r) => SERVICES.some((s) => r.combination.name === `${s}${suffix}`))
      .flatMap((r) => r.objects);
  pairs = [
    ...ENVIRONMENTS.map((env) => ({ name: `k8s/${env}`, objects: environments[env] })),
    { name: 'chart: all features', objects: pairOf(' all features') },
    { name: 'chart: all features + CloudNativePG', objects: pairOf(' all features + CloudNativePG') },
  ];
});

const all = () => [
  ...rendered.map((r) => ({ name: `chart: ${r.combination.name}`, objects: r.objects })),
  ...ENVIRONMENTS.map((env) => ({ name: `k8s/${env}`, objects: environments[env] })),
];
const serviceOf = (r: Rendered) => SERVICES.find((s) => r.combination.name.startsWith(s));
const problemsOf = async (
  check: (objects: K8sObject[]) => string[] | Promise<string[]>,
  sets: Array<{ name: string; objects: K8sObject[] }>,
) =>
  (
    await Promise.all(
      sets.map(async ({ name, objects }) => (await check(objects)).map((p) => `${name}: ${p}`)),
    )
  ).flat();

/** A copy of the first object of `kind` (by app name) in `objects` for a negative test to break. */
function breakable(
  objects: K8sObject[],
  kind: string,
  app?: string,
): { objects: K8sObject[]; target: K8sObject } {
  const copy = clone(objects);
  const target = copy.find(
    (o) => o.kind === kind && (!app || o.metadata.labels?.['app.kubernetes.io/name'] === app),
  );
  if (!target) throw new Error(`no ${kind} to break`);
  return { objects: copy, target };
}
const C = 'spec.template.spec.containers.0';
const prod = () => environments.prod;

describe('against the real services', () => {
  it('reads routes and ports from the apps themselves', () => {
    expect(facts['user-service'].port).toBe(8000);
    expect(facts['order-service'].port).toBe(8001);
    expect(facts['order-service'].paths).toContain('/health/ready');
  });

  it('probe paths are routes of the service that answer 200, and ports are the ports it listens on', async () => {
    const problems: string[] = [];
    for (const r of rendered) {
      const service = serviceOf(r);
      if (service) problems.push(...(await checkAgainstService(r.objects, facts[service])));
    }
    for (const env of ENVIRONMENTS) {
      for (const service of SERVICES)
        problems.push(...(await checkAgainstService(environments[env], facts[service])));
    }
    expect(problems).toEqual([]);
  });

  it('fails on a probe path the service does not have (negative)', async () => {
    const { objects, target } = breakable(prod(), 'Deployment', 'user-service');
    put(target, `${C}.readinessProbe.httpGet.path`, '/healthz');
    expect((await checkAgainstService(objects, facts['user-service'])).join()).toMatch(
      /\/healthz is not a route/,
    );
  });

  it('fails on a container port the service does not listen on (negative)', async () => {
    const { objects, target } = breakable(prod(), 'Deployment', 'order-service');
    put(target, `${C}.ports.0.containerPort`, 8080);
    expect((await checkAgainstService(objects, facts['order-service'])).join()).toMatch(/listens on 8001/);
  });
});

describe('security contexts, resources and rollout invariants', () => {
  it('hold for every pod of every combination and environment', async () => {
    expect(await problemsOf(checkSecurityContexts, all())).toEqual([]);
    expect(await problemsOf(checkDeployments, all())).toEqual([]);
  });

  it.each([
    ['capabilities not dropped', 'securityContext.capabilities', undefined, /drop ALL/],
    ['a writable root filesystem', 'securityContext.readOnlyRootFilesystem', false, /readOnlyRootFilesystem/],
    [
      'privilege escalation',
      'securityContext.allowPrivilegeEscalation',
      undefined,
      /allowPrivilegeEscalation/,
    ],
    ['no memory limit', 'resources.limits', undefined, /limits.memory/],
    ['no resource requests', 'resources.requests', undefined, /requests/],
    ['an exec probe', 'livenessProbe', { exec: { command: ['true'] } }, /exec probe/],
    ['/tmp not mounted', 'volumeMounts', [], /\/tmp/],
  ])('fail on %s (negative)', (_name, path, value, message) => {
    const { objects, target } = breakable(prod(), 'Deployment');
    put(target, `${C}.${path}`, value);
    expect(checkSecurityContexts(objects).join()).toMatch(message);
  });

  it('fail on a root pod, a mounted token or a hook Job without the invariants (negative)', () => {
    const { objects, target } = breakable(environments.staging, 'Job');
    put(target, 'spec.template.spec.securityContext.runAsUser', 0);
    put(target, 'spec.template.spec.automountServiceAccountToken', true);
    const problems = checkSecurityContexts(objects).join();
    expect(problems).toMatch(/Job\/.*run as 65532/);
    expect(problems).toMatch(/automountServiceAccountToken/);
  });

  it.each([
    ['maxUnavailable above 0', 'spec.strategy.rollingUpdate.maxUnavailable', 1, /maxUnavailable/],
    ['no config checksum', 'spec.template.metadata.annotations', {}, /checksum/],
    [
      'no zone spread',
      'spec.template.spec.topologySpreadConstraints.1.topologyKey',
      'example.com/rack',
      /topology/,
    ],
    [
      'a grace period shorter than the drain',
      'spec.template.spec.terminationGracePeriodSeconds',
      10,
      /terminationGracePeriodSeconds/,
    ],
    ['a probe on an unnamed port', `${C}.startupProbe.httpGet.port`, 'web', /not a named container port/],
    ['a selector that misses its pods', 'spec.selector.matchLabels', { app: 'api' }, /selector/],
  ])('Deployment check fails on %s (negative)', (_name, path, value, message) => {
    const { objects, target } = breakable(prod(), 'Deployment');
    put(target, path, value);
    expect(checkDeployments(objects).join()).toMatch(message);
  });
});

describe('wiring: Services, monitors, budgets, routes', () => {
  it('every reference points at something rendered, with matching selectors and port names', async () => {
    expect(await problemsOf(checkWiring, all())).toEqual([]);
  });

  it.each([
    [
      'Service targetPort that is no container port',
      'Service',
      'spec.ports.0.targetPort',
      'metrics',
      /targetPort metrics/,
    ],
    [
      'Service selector that matches no pods',
      'Service',
      'spec.selector',
      { app: 'users' },
      /matches no Deployment/,
    ],
    [
      'ServiceMonitor on an unknown port',
      'ServiceMonitor',
      'spec.endpoints.0.port',
      'web',
      /endpoint port web/,
    ],
    ['PDB selecting nothing', 'PodDisruptionBudget', 'spec.selector.matchLabels.extra', 'x', /selects no/],
    [
      'HPA on a missing Deployment',
      'HorizontalPodAutoscaler',
      'spec.scaleTargetRef.name',
      'users',
      /no Deployment users/,
    ],
  ])('fails on a %s (negative)', (_name, kind, path, value, message) => {
    const { objects, target } = breakable(prod(), kind);
    put(target, path, value);
    expect(checkWiring(objects).join()).toMatch(message);
  });

  it('fails on an Ingress or HTTPRoute backend that does not exist (negative)', () => {
    const pair = pairs.find((p) => p.name === 'chart: all features');
    const { objects, target } = breakable(pair?.objects ?? [], 'Ingress');
    put(target, 'spec.rules.0.http.paths.0.backend.service.port', { name: 'https' });
    put(
      objects.find((o) => o.kind === 'HTTPRoute'),
      'spec.rules.0.backendRefs.0.port',
      9999,
    );
    const problems = checkWiring(objects).join();
    expect(problems).toMatch(/Ingress.*backend/);
    expect(problems).toMatch(/HTTPRoute.*9999/);
  });

  it('fails on a CloudNativePG app Secret read with the wrong key (negative)', () => {
    const { objects, target } = breakable(environments.staging, 'Deployment', 'user-service');
    put(target, `${C}.env.0.valueFrom.secretKeyRef.key`, 'password');
    expect(checkWiring(objects).join()).toMatch(/key must be uri/);
  });
});

describe('network policies and the order-service → user-service link', () => {
  it('selectors match the real pods and ports in every namespace; order-service may reach user-service', async () => {
    for (const { objects } of pairs) {
      expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(2);
      const names = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
      expect(names.sort()).toEqual(['order-service', 'user-service']);
    }
    expect(await problemsOf(checkNetworkPolicies, pairs)).toEqual([]);
    expect(await problemsOf(checkUserServiceLink, pairs)).toEqual([]);
  });

  it('USER_SERVICE_URL is the user-service Service DNS name and port', () => {
    const cm = environments.dev.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'order-service');
    expect(at(cm, 'data.USER_SERVICE_URL')).toBe(
      'http://user-service.microservices-dev.svc.cluster.local:8000',
    );
  });

  it('fails when user-service admits pods that do not exist (negative)', () => {
    const { objects, target } = breakable(prod(), 'NetworkPolicy', 'user-service');
    put(target, 'spec.ingress.0.from.1.podSelector.matchLabels', { 'app.kubernetes.io/name': 'orders' });
    expect(checkNetworkPolicies(objects).join()).toMatch(/ingress from .*orders.* matches no pod/);
  });

  it('fails when order-service egress targets a port user-service does not have (negative)', () => {
    const { objects, target } = breakable(prod(), 'NetworkPolicy', 'order-service');
    const egress = at(target, 'spec.egress') as unknown[];
    const index = egress.findIndex((rule) =>
      JSON.stringify(at(rule, 'to')).includes('"app.kubernetes.io/name":"user-service"'),
    );
    put(target, `spec.egress.${index}.ports.0.port`, 'grpc');
    expect(checkNetworkPolicies(objects).join()).toMatch(/egress port grpc/);
    expect(checkUserServiceLink(objects).join()).toMatch(/NetworkPolicies block/);
  });

  it('fails when pods that use a database may not reach it (negative)', () => {
    for (const env of ['staging', 'prod'] as const) {
      const { objects, target } = breakable(environments[env], 'NetworkPolicy', 'user-service');
      const egress = at(target, 'spec.egress') as unknown[];
      put(
        target,
        'spec.egress',
        egress.filter((rule) => !JSON.stringify(rule).includes('5432')),
      );
      expect(checkNetworkPolicies(objects).join()).toMatch(/no egress reaches a database/);
    }
  });

  it('fails when the policy selects no pods of its release (negative)', () => {
    const { objects, target } = breakable(prod(), 'NetworkPolicy', 'user-service');
    put(target, 'spec.podSelector.matchLabels', {
      'app.kubernetes.io/name': 'user-service',
      'app.kubernetes.io/instance': 'other',
    });
    expect(checkNetworkPolicies(objects).join()).toMatch(/podSelector matches no/);
  });

  it.each([
    [
      'another Service name',
      'http://users.microservices-prod.svc.cluster.local:8000',
      /not a Service rendered here/,
    ],
    [
      'the wrong port',
      'http://user-service.microservices-prod.svc.cluster.local:80',
      /port 80 is not a port/,
    ],
    [
      'another namespace',
      'http://user-service.microservices-dev.svc.cluster.local:8000',
      /namespace microservices-dev/,
    ],
    ['the loopback default', 'http://127.0.0.1:8000', /not a Service/],
  ])('fails when USER_SERVICE_URL names %s (negative)', (_name, url, message) => {
    const copy = clone(prod());
    put(
      copy.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'order-service'),
      'data.USER_SERVICE_URL',
      url,
    );
    expect(checkUserServiceLink(copy).join()).toMatch(message);
  });
});

describe('images, replicas and faults', () => {
  it('every image is <registry>/<owner>/<service>:<tag>[@digest], one registry/owner everywhere, one image per release', async () => {
    expect(await problemsOf((o) => checkImages(o, EXPECTED_IMAGES), all())).toEqual([]);
  });

  it('fails on another owner, a foreign image or a release running two images (negative)', () => {
    const { objects, target } = breakable(prod(), 'Deployment', 'user-service');
    put(target, `${C}.image`, 'ghcr.io/someone-else/user-service:1.0.0');
    const job = objects.find(
      (o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/name'] === 'order-service',
    );
    put(job, `${C}.image`, 'ghcr.io/example-org/user-service:1.0.0');
    const problems = checkImages(objects, EXPECTED_IMAGES).join('\n');
    expect(problems).toMatch(/not under ghcr.io\/example-org/);
    expect(problems).toMatch(/does not belong to order-service/);
    expect(problems).toMatch(/different images/);
  });

  it('the embedded store runs one pod without HPA, a PDB only guards more than one pod, no faults in prod', async () => {
    expect(await problemsOf(checkReplicaRules, all())).toEqual([]);
    expect(await problemsOf(checkNoFaultsInProd, all())).toEqual([]);
  });

  it('fails on an embedded store with 2 replicas, a PDB for one pod, faults in prod (negative)', () => {
    const dev = breakable(environments.dev, 'Deployment');
    put(dev.target, 'spec.replicas', 2);
    expect(checkReplicaRules(dev.objects).join()).toMatch(/embedded in-memory store but replicas=2/);
    const staging = breakable(environments.staging, 'Deployment', 'user-service');
    put(staging.target, 'spec.replicas', 1);
    expect(checkReplicaRules(staging.objects).join()).toMatch(/disruption budget for a single pod/);
    const faults = breakable(prod(), 'ConfigMap');
    put(faults.target, 'data.FAULTS_ENABLED', 'true');
    expect(checkNoFaultsInProd(faults.objects).join()).toMatch(/FAULTS_ENABLED=true in prod/);
  });
});
