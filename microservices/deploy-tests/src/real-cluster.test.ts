// What schema validation cannot see (issue 14): the chart and k8s/ read the way a real cluster reads them —
// kube-prometheus-stack's selectors, CloudNativePG's PDB and Argo CD's pruning, `kubectl apply` and Job
// immutability, the kubelet's startup probe against the migration budget, Helm as a subchart, NetworkPolicy
// peers across namespaces, dual-stack listening, and the knobs platform teams set.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseOrderServiceEnv } from '../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../user-service/src/env.js';
import { chartDir, repoRoot, scratchDir } from './support/deploy-paths.js';
import {
  type Combination,
  ciValues,
  ENVIRONMENTS,
  type EnvironmentName,
  presetValues,
  renderObjects,
  SERVICES,
  type ServiceName,
} from './support/helm.js';
import { at, type K8sObject, one, parseManifests } from './support/manifests.js';
import { loadAllEnvironments, loadArgoCd, type Rendered, renderAllCombinations } from './support/renders.js';
import { ensureTools, runCommand } from './support/tools.js';

type Labels = Record<string, string>;
let environments: Record<EnvironmentName, K8sObject[]>;
let rendered: Rendered[] = [];
let argocd: K8sObject[] = [];

beforeAll(async () => {
  [environments, rendered, argocd] = await Promise.all([
    loadAllEnvironments(),
    renderAllCombinations(),
    loadArgoCd(),
  ]);
});

const render = (service: ServiceName, extra: Partial<Combination> = {}) =>
  renderObjects({
    name: service,
    release: service,
    namespace: 'shop',
    valuesFiles: [presetValues(service)],
    ...extra,
  });
const allFeatures = (service: ServiceName, set: string[] = []) =>
  render(service, { valuesFiles: [presetValues(service), ciValues('all-features')], set });
const withDatabase = ['postgresql.existingSecret.name=shop-db'];
const ofService = (objects: K8sObject[], service: string) =>
  objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === service);
const podSpec = (o: K8sObject) =>
  (o.kind === 'Pod' ? o.spec : at(o, 'spec.template.spec')) as Record<string, unknown> & {
    containers: Array<Record<string, unknown>>;
    volumes?: Array<{ name: string }>;
  };
/** The service's settings ConfigMap (not the Grafana dashboard's). */
const configOf = (objects: K8sObject[]) =>
  one(
    objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'server'),
    'ConfigMap',
  ).data as Labels;
const jobOf = (objects: K8sObject[], component: string) =>
  objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/component'] === component);

const subset = (selector: Labels | undefined, labels: Labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

interface Peer {
  namespace: string;
  labels: Labels;
}
interface PolicyPeer {
  podSelector?: { matchLabels?: Labels };
  namespaceSelector?: { matchLabels?: Labels };
  ipBlock?: { cidr: string };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: Array<{ port: number | string; protocol?: string }>;
}

/** A NetworkPolicy peer as the API server reads it: namespaceSelector by the automatic name label. */
function peerMatches(peer: PolicyPeer, policyNamespace: string, who: Peer): boolean {
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector
    ? subset(peer.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': who.namespace })
    : who.namespace === policyNamespace;
  const podOk = peer.podSelector ? subset(peer.podSelector.matchLabels, who.labels) : true;
  return namespaceOk && podOk;
}

function policyOf(objects: K8sObject[]) {
  const np = one(objects, 'NetworkPolicy');
  return {
    namespace: np.metadata.namespace as string,
    ingress: (at(np, 'spec.ingress') ?? []) as PolicyRule[],
    egress: (at(np, 'spec.egress') ?? []) as PolicyRule[],
  };
}

/** The server container's named ports (name → number), as the kubelet resolves a named port in a rule. */
function namedPorts(objects: K8sObject[]): Record<string, number> {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const ports = (deployment ? (podSpec(deployment).containers[0]?.ports ?? []) : []) as Array<{
    name?: string;
    containerPort: number;
  }>;
  return Object.fromEntries(ports.filter((p) => p.name).map((p) => [p.name, p.containerPort]));
}

/** A rule's port matches the numeric port, directly or (where the CNI resolves them) through a name. */
const portMatches = (rulePort: number | string, port: number, names: Record<string, number>) =>
  rulePort === port || (typeof rulePort === 'string' && names[rulePort] === port);

const admitsIngress = (objects: K8sObject[], who: Peer, port: number) => {
  const np = policyOf(objects);
  const names = namedPorts(objects);
  return np.ingress.some(
    (rule) =>
      (!rule.ports || rule.ports.some((p) => portMatches(p.port, port, names))) &&
      (rule.from ?? []).some((peer) => peerMatches(peer, np.namespace, who)),
  );
};
/** `targetNames`: the destination pods' named ports (named egress ports resolve against them). */
const admitsEgress = (
  objects: K8sObject[],
  to: Peer,
  port: number,
  targetNames: Record<string, number> = {},
) => {
  const np = policyOf(objects);
  return np.egress.some(
    (rule) =>
      (!rule.ports || rule.ports.some((p) => portMatches(p.port, port, targetNames))) &&
      (rule.to ?? []).some((peer) => peerMatches(peer, np.namespace, to)),
  );
};

/** The container port behind a ServiceMonitor endpoint's Service port name (Service targetPort → container). */
function scrapedContainerPort(objects: K8sObject[], servicePortName: string): number {
  const service = one(objects, 'Service');
  const entry = (at(service, 'spec.ports') as Array<{ name: string; targetPort: string | number }>).find(
    (p) => p.name === servicePortName,
  );
  const target = entry?.targetPort;
  return typeof target === 'number' ? target : (namedPorts(objects)[String(target)] ?? Number.NaN);
}

/** Every port of every NetworkPolicy rule, for the numeric-only check (EKS). */
const policyPorts = (objects: K8sObject[]) =>
  objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .flatMap((o) => [
      ...((at(o, 'spec.ingress') ?? []) as PolicyRule[]),
      ...((at(o, 'spec.egress') ?? []) as PolicyRule[]),
    ])
    .flatMap((rule) => rule.ports ?? [])
    .map((p) => p.port);

/**
 * kube-prometheus-stack 88.x with its defaults (`serviceMonitorSelectorNilUsesHelmValues` and
 * `ruleSelectorNilUsesHelmValues` true, empty namespace selectors), installed as release
 * `kube-prometheus-stack` in `monitoring`: its Prometheus selects `release: kube-prometheus-stack` in every
 * namespace, and the operator labels its pods app.kubernetes.io/name: prometheus (plus instance labels).
 */
const KUBE_PROMETHEUS_STACK = {
  serviceMonitorSelector: { matchLabels: { release: 'kube-prometheus-stack' } },
  ruleSelector: { matchLabels: { release: 'kube-prometheus-stack' } },
  pod: {
    namespace: 'monitoring',
    labels: {
      'app.kubernetes.io/name': 'prometheus',
      'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus',
      'app.kubernetes.io/managed-by': 'prometheus-operator',
      prometheus: 'kube-prometheus-stack-prometheus',
    },
  },
};

describe('defect 2: monitoring a default kube-prometheus-stack really loads', () => {
  it('in every environment with monitoring, its Prometheus selects the ServiceMonitor and the PrometheusRule, and the NetworkPolicy admits its pods', () => {
    let checked = 0;
    for (const env of ENVIRONMENTS) {
      for (const service of SERVICES) {
        const objects = ofService(environments[env], service);
        const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
        const rule = objects.find((o) => o.kind === 'PrometheusRule');
        if (!monitor && !rule) continue;
        checked += 1;
        const where = `k8s/${env} ${service}`;
        expect(monitor && rule, `${where}: both or neither`).toBeTruthy();
        expect(
          subset(KUBE_PROMETHEUS_STACK.serviceMonitorSelector.matchLabels, monitor?.metadata.labels ?? {}),
          `${where}: ServiceMonitor labels ${JSON.stringify(monitor?.metadata.labels)}`,
        ).toBe(true);
        expect(
          subset(KUBE_PROMETHEUS_STACK.ruleSelector.matchLabels, rule?.metadata.labels ?? {}),
          `${where}: PrometheusRule labels`,
        ).toBe(true);
        // The scrape reaches the pods: the ServiceMonitor's endpoint port is admitted from Prometheus.
        const port = scrapedContainerPort(objects, at(monitor, 'spec.endpoints.0.port') as string);
        expect(admitsIngress(objects, KUBE_PROMETHEUS_STACK.pod, port), `${where}: NetworkPolicy`).toBe(true);
      }
    }
    expect(checked).toBe(4);
  });

  it('one metrics.prometheus setting moves the labels and the NetworkPolicy rule together', async () => {
    const objects = await allFeatures('user-service', [
      'metrics.prometheus.release=prom',
      'metrics.prometheus.namespace=observability',
    ]);
    for (const kind of ['ServiceMonitor', 'PrometheusRule'])
      expect(one(objects, kind).metadata.labels).toMatchObject({ release: 'prom' });
    const prometheus = { namespace: 'observability', labels: { 'app.kubernetes.io/name': 'prometheus' } };
    expect(admitsIngress(objects, prometheus, 8000)).toBe(true);
    expect(admitsIngress(objects, KUBE_PROMETHEUS_STACK.pod, 8000)).toBe(false);
  });
});

describe('defect 4: CloudNativePG', () => {
  it('a single-instance Cluster (staging) turns the operator PDB off, so node drains are not blocked; three instances keep it', async () => {
    for (const service of SERVICES) {
      const cluster = one(ofService(environments.staging, service), 'Cluster');
      expect(at(cluster, 'spec.instances')).toBe(1);
      expect(at(cluster, 'spec.enablePDB')).toBe(false);
    }
    const three = await render('user-service', {
      set: ['postgresql.cnpg.enabled=true', 'postgresql.cnpg.instances=3'],
    });
    expect(at(one(three, 'Cluster'), 'spec.enablePDB')).toBe(true);
  });

  it('the Cluster survives a renamed release or cnpg switched off: Argo CD never prunes or deletes it, Helm keeps it', async () => {
    for (const service of SERVICES) {
      const cluster = one(ofService(environments.staging, service), 'Cluster');
      expect(cluster.metadata.annotations).toMatchObject({
        'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
        'helm.sh/resource-policy': 'keep',
      });
    }
  });

  it('a Cluster left behind (cnpg off, a renamed release) does not keep the Application OutOfSync: IgnoreExtraneous beside Prune=false', async () => {
    const objects = await render('user-service', { set: ['postgresql.cnpg.enabled=true'] });
    expect(one(objects, 'Cluster').metadata.annotations).toMatchObject({
      'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
    });
    const unprotected = await render('user-service', {
      set: ['postgresql.cnpg.enabled=true', 'postgresql.cnpg.deletionProtection=false'],
    });
    expect(one(unprotected, 'Cluster').metadata.annotations).not.toHaveProperty(
      'argocd.argoproj.io/compare-options',
    );
  });

  it('optional backups: barman object store on the Cluster and a ScheduledBackup of it', async () => {
    const objects = await render('user-service', {
      valuesFiles: [presetValues('user-service'), ciValues('all-features'), ciValues('all-features-cnpg')],
    });
    const cluster = one(objects, 'Cluster');
    expect(at(cluster, 'spec.backup.barmanObjectStore.destinationPath')).toBe(
      's3://shop-backups/microservices/',
    );
    expect(at(cluster, 'spec.backup.barmanObjectStore.s3Credentials.accessKeyId')).toEqual({
      name: 'backup-credentials',
      key: 'ACCESS_KEY_ID',
    });
    const scheduled = one(objects, 'ScheduledBackup');
    expect(at(scheduled, 'spec.cluster.name')).toBe(cluster.metadata.name);
    expect(at(scheduled, 'spec.method')).toBe('barmanObjectStore');
    expect(String(at(scheduled, 'spec.schedule')).split(' ')).toHaveLength(6);
    await expect(
      render('user-service', {
        set: ['postgresql.cnpg.enabled=true', 'postgresql.cnpg.backup.enabled=true'],
      }),
    ).rejects.toThrow(/backup.enabled needs destinationPath/);
  });
});

describe('defect 5: migrations', () => {
  const migrateJob = async (set: string[]) => {
    const job = jobOf(
      await render('user-service', { set: ['postgresql.existingSecret.name=users-db', ...set] }),
      'migrate',
    );
    if (!job) throw new Error('no migrate Job');
    return job;
  };

  it('the Job name changes with anything in its pod template, not only the image (kubectl apply: a Job template is immutable)', async () => {
    const base = (await migrateJob([])).metadata.name;
    expect((await migrateJob([])).metadata.name).toBe(base);
    for (const change of [
      'config.logLevel=debug',
      'postgresql.pool.connectTimeoutMs=9000',
      'postgresql.existingSecret.key=url',
      'resources.requests.cpu=500m',
      'priorityClass.enabled=true,priorityClass.name=high',
      'podMetadata.enabled=true,podMetadata.labels.team=shop',
      'podMetadata.enabled=true,podMetadata.annotations.example\\.com/owner=shop',
    ]) {
      expect((await migrateJob(change.split(','))).metadata.name, change).not.toBe(base);
    }
  });

  it('the Job retries a database that is not ready yet, with the same bounded loop as start-up', async () => {
    const job = await migrateJob([]);
    const env = (podSpec(job).containers[0]?.env ?? []) as Array<{ name: string; value?: string }>;
    const vars = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(vars.DB_MIGRATE_RETRY_MS).toBe('40000');
    expect(vars.DB_MIGRATE_LOCK_TIMEOUT_MS).toBe('30000');
  });

  it('wherever pods migrate on start, the startup probe outlasts the worst-case migration (retry window + connect + lock wait)', () => {
    let checked = 0;
    for (const { combination, objects } of rendered) {
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        const service = deployment.metadata.labels?.['app.kubernetes.io/name'] as string;
        const mine = ofService(objects, service);
        const data = configOf(mine);
        if (data.DB_MIGRATE_ON_START !== 'true' || !('DB_POOL_MAX' in data)) continue;
        checked += 1;
        // What the service itself makes of its ConfigMap (defaults included).
        const source = { ...data, DATABASE_URL: 'postgres://db/app' };
        const env = service === 'order-service' ? parseOrderServiceEnv(source) : parseUserServiceEnv(source);
        const budgetSeconds =
          (env.DB_MIGRATE_RETRY_MS + env.DB_CONNECT_TIMEOUT_MS + env.DB_MIGRATE_LOCK_TIMEOUT_MS) / 1000;
        const probe = at(deployment, 'spec.template.spec.containers.0.startupProbe') as {
          periodSeconds: number;
          failureThreshold: number;
        };
        expect(
          probe.periodSeconds * probe.failureThreshold,
          `${combination.name}: startup probe budget`,
        ).toBeGreaterThan(budgetSeconds);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});

describe('the migration Job runs like the server pods (review finding 6)', () => {
  type Container = { env?: Array<{ name: string; value?: string }>; volumeMounts?: unknown[] };
  const migratePod = (objects: K8sObject[]) => {
    const job = jobOf(objects, 'migrate') as K8sObject;
    expect(job).toBeDefined();
    return {
      labels: at(job, 'spec.template.metadata.labels') as Labels,
      annotations: at(job, 'spec.template.metadata.annotations') as Labels | undefined,
      spec: podSpec(job),
      container: podSpec(job).containers[0] as Container,
    };
  };

  it('gets extraEnv, NODE_OPTIONS, extraVolumes/Mounts and podMetadata, as the Deployment does', async () => {
    for (const service of SERVICES) {
      const objects = await allFeatures(service);
      const pod = migratePod(objects);
      const deployment = one(objects, 'Deployment');
      const server = podSpec(deployment);
      const names = (pod.container.env ?? []).map((e) => e.name);
      // all-features sets NODE_OPTIONS through extraEnv: that one, once (as env beats envFrom in the pods).
      expect(names.filter((n) => n === 'NODE_OPTIONS')).toHaveLength(1);
      expect(pod.container.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=160' });
      expect(pod.container.env).toContainEqual({
        name: 'POD_NAME',
        valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
      });
      expect(pod.spec.volumes).toContainEqual(server.volumes?.find((v) => v.name === 'secrets-store'));
      expect(pod.container.volumeMounts).toContainEqual({
        name: 'secrets-store',
        mountPath: '/mnt/secrets-store',
        readOnly: true,
      });
      expect(pod.labels).toMatchObject({ 'example.com/cost-center': 'shop' });
      expect(pod.annotations).toMatchObject({ 'example.com/team': 'platform' });
    }
    // Without extraEnv the heap caps of config.nodeOptions apply to the migration too.
    const plain = migratePod(await render('user-service', { set: withDatabase }));
    expect(plain.container.env).toContainEqual({
      name: 'NODE_OPTIONS',
      value: '--max-old-space-size=128 --max-semi-space-size=4',
    });
  });

  it('runs under the release ServiceAccount (workload identity) when it runs after it; a PreSync Job cannot', async () => {
    const cnpg = await render('user-service', {
      valuesFiles: [presetValues('user-service'), ciValues('all-features'), ciValues('all-features-cnpg')],
    });
    expect(migratePod(cnpg).spec.serviceAccountName).toBe(one(cnpg, 'ServiceAccount').metadata.name);
    // Before the release's resources (pre-install / PreSync) the account does not exist yet.
    const preSync = migratePod(await render('user-service', { set: withDatabase }));
    expect(preSync.spec.serviceAccountName).toBeUndefined();
  });
});

describe('defect 7: as a subchart', () => {
  it('an umbrella chart depending on this chart renders, with the `global` values Helm injects', async () => {
    const { helm, env } = await ensureTools();
    const umbrella = join(scratchDir, 'umbrella');
    await rm(umbrella, { recursive: true, force: true });
    await mkdir(join(umbrella, 'charts'), { recursive: true });
    await mkdir(join(umbrella, 'templates'), { recursive: true });
    await writeFile(
      join(umbrella, 'templates', '_helpers.tpl'),
      '{{/* The umbrella renders only its dependencies. */}}\n',
    );
    await cp(chartDir, join(umbrella, 'charts', 'microservice'), { recursive: true, dereference: true });
    await writeFile(
      join(umbrella, 'Chart.yaml'),
      stringify({
        apiVersion: 'v2',
        name: 'shop',
        version: '1.0.0',
        dependencies: [
          { name: 'microservice', version: '0.1.0', alias: 'users' },
          { name: 'microservice', version: '0.1.0', alias: 'orders' },
        ],
      }),
    );
    const preset = async (service: ServiceName) =>
      (await import('yaml')).parse(await readFile(presetValues(service), 'utf8')) as Record<string, unknown>;
    await writeFile(
      join(umbrella, 'values.yaml'),
      stringify({
        global: { imageRegistry: 'registry.example.com' },
        users: await preset('user-service'),
        orders: await preset('order-service'),
      }),
    );
    const result = await runCommand(helm, ['template', 'shop', umbrella, '--namespace', 'shop'], { env });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    const objects = parseManifests(result.stdout, 'umbrella');
    const names = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(names.sort()).toEqual(['shop-order-service', 'shop-user-service']);
    const lint = await runCommand(helm, ['lint', '--strict', umbrella], { env });
    expect(lint.stdout + lint.stderr).toContain('0 chart(s) failed');
  });
});

describe('defect 8: NetworkPolicy on common clusters', () => {
  it('DNS by address (NodeLocal DNSCache, the kube-dns Service IP) in addition to the kube-dns pods', async () => {
    const policy = policyOf(await allFeatures('order-service'));
    const dns = policy.egress.find((r) => r.ports?.some((p) => p.port === 53));
    // The kube-dns pods stay reachable: NodeLocal DNSCache forwards misses to them, and a node without the
    // cache (or the cache restarting) falls back to them.
    expect(dns?.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
      { ipBlock: { cidr: '169.254.20.10/32' } },
    ]);
    const byPods = policyOf(await render('order-service', { set: ['networkPolicy.enabled=true'] }));
    expect(byPods.egress.find((r) => r.ports?.some((p) => p.port === 53))?.to?.[0]?.podSelector).toEqual({
      matchLabels: { 'k8s-app': 'kube-dns' },
    });
  });

  it('a user-service in another namespace is reachable: order-service egress selects its namespace, user-service admits that client namespace', async () => {
    const order = await render('order-service', {
      set: ['networkPolicy.enabled=true', 'userService.namespace=users'],
    });
    const userPod = { namespace: 'users', labels: { 'app.kubernetes.io/name': 'user-service' } };
    expect(admitsEgress(order, userPod, 8000)).toBe(true);
    expect(configOf(order).USER_SERVICE_URL).toBe('http://user-service.users.svc.cluster.local:8000');
    const values = join(scratchDir, 'user-allowed-clients.yaml');
    await mkdir(scratchDir, { recursive: true });
    await writeFile(
      values,
      stringify({
        networkPolicy: {
          enabled: true,
          allowedClients: [{ podLabels: { 'app.kubernetes.io/name': 'order-service' }, namespace: 'shop' }],
        },
      }),
    );
    const user = await renderObjects({
      name: 'user-service in users',
      release: 'user-service',
      namespace: 'users',
      valuesFiles: [presetValues('user-service'), values],
    });
    expect(
      admitsIngress(user, { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'order-service' } }, 8000),
    ).toBe(true);
    // Namespace-local stays namespace-local: a same-labelled pod elsewhere is not admitted.
    expect(
      admitsIngress(
        user,
        { namespace: 'other', labels: { 'app.kubernetes.io/name': 'order-service' } },
        8000,
      ),
    ).toBe(false);
  });

  it('admits the Gateway namespaces of httpRoute.parentRefs (gateway-system in the chart example)', async () => {
    const objects = await allFeatures('user-service');
    const gateway = { namespace: 'gateway-system', labels: { 'app.kubernetes.io/name': 'envoy' } };
    expect(admitsIngress(objects, gateway, 8000)).toBe(true);
    const sameNamespace = await render('user-service', {
      set: ['networkPolicy.enabled=true', 'httpRoute.enabled=true', 'httpRoute.parentRefs[0].name=public'],
    });
    expect(admitsIngress(sameNamespace, { namespace: 'shop', labels: { gateway: 'public' } }, 8000)).toBe(
      true,
    );
  });

  it('renders numeric ports only (EKS network policy agent resolves no named ports), in every rule and combination', async () => {
    const sources = [
      ...rendered.map((r) => ({ where: r.combination.name, objects: r.objects })),
      { where: 'k8s/dev', objects: environments.dev },
      { where: 'all-features user-service', objects: await allFeatures('user-service') },
      { where: 'all-features order-service', objects: await allFeatures('order-service') },
    ];
    let checked = 0;
    for (const { where, objects } of sources) {
      for (const port of policyPorts(objects)) {
        checked += 1;
        expect(typeof port, `${where}: NetworkPolicy port ${port}`).toBe('number');
      }
    }
    expect(checked).toBeGreaterThan(10);
    // The numbers are the ones the pods listen on: each service's containerPort (and user-service's, for
    // order-service's egress to it).
    const order = await allFeatures('order-service');
    expect(
      admitsIngress(
        order,
        {
          namespace: 'shop',
          labels: {
            'app.kubernetes.io/name': 'order-service',
            'app.kubernetes.io/instance': 'order-service',
          },
        },
        8001,
      ),
    ).toBe(true);
    expect(
      admitsEgress(order, { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'user-service' } }, 8000),
    ).toBe(true);
    const moved = await render('order-service', {
      set: ['networkPolicy.enabled=true', 'userService.containerPort=9000'],
    });
    expect(
      admitsEgress(moved, { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'user-service' } }, 9000),
    ).toBe(true);
  });

  it('extraIngress and extraEgress rules are appended as given', async () => {
    const policy = policyOf(await allFeatures('user-service'));
    expect(policy.ingress.at(-1)).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'tracing' } } }],
      // Given as `port: http`: rendered as the container's number.
      ports: [{ port: 8000, protocol: 'TCP' }],
    });
    const order = policyOf(await allFeatures('order-service'));
    expect(order.ingress.at(-1)?.ports).toEqual([{ port: 8001, protocol: 'TCP' }]);
    expect(policy.egress.at(-1)).toEqual({
      to: [{ ipBlock: { cidr: '10.30.0.0/16' } }],
      ports: [{ port: 4317, protocol: 'TCP' }],
    });
  });
});

/** Listens on `host` and tries one connection per loopback family. */
async function reachable(host: string): Promise<{ ipv4: boolean; ipv6: boolean }> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const tryConnect = (address: string) =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: address, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  const result = { ipv4: await tryConnect('127.0.0.1'), ipv6: await tryConnect('::1') };
  await new Promise((resolve) => server.close(resolve));
  return result;
}

describe('defect 9: IPv6-only and dual-stack clusters', () => {
  it('every environment listens dual-stack: the rendered HOST accepts IPv6 and IPv4 connections', async () => {
    const hosts = new Set(
      ENVIRONMENTS.flatMap((env) =>
        environments[env].filter((o) => o.kind === 'ConfigMap').map((o) => (o.data as Labels).HOST),
      ),
    );
    expect([...hosts]).toEqual(['::']);
    const probe = await reachable('::1').catch(() => null);
    if (!probe?.ipv6) {
      console.warn('deploy-tests: this machine has no IPv6 loopback: only the rendered value was checked');
      return;
    }
    expect(await reachable('::')).toEqual({ ipv4: true, ipv6: true });
  });
});

describe('knobs a platform team expects', () => {
  it('nodeSelector, tolerations and affinity on every pod (server and hooks)', async () => {
    const objects = (await allFeatures('order-service')).filter((o) =>
      ['Deployment', 'Job', 'Pod'].includes(o.kind),
    );
    expect(objects.length).toBeGreaterThanOrEqual(4);
    for (const o of objects) {
      const spec = podSpec(o);
      expect(spec.nodeSelector, `${o.kind}/${o.metadata.name}`).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(spec.tolerations).toEqual([
        { key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' },
      ]);
      expect(at(spec, 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution')).toBeDefined();
    }
  });

  it('ServiceAccount annotations (workload identity), Service annotations and labels', async () => {
    const objects = await allFeatures('user-service');
    expect(one(objects, 'ServiceAccount').metadata.annotations).toMatchObject({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/shop-service',
    });
    const service = one(objects, 'Service');
    expect(service.metadata.annotations).toEqual({
      'service.beta.kubernetes.io/aws-load-balancer-internal': 'true',
    });
    expect(service.metadata.labels).toMatchObject({ 'example.com/team': 'platform' });
  });

  it('extraVolumes and extraVolumeMounts on the server pods, beside /tmp and the database CA', async () => {
    const spec = podSpec(one(await allFeatures('user-service'), 'Deployment'));
    expect(spec.volumes?.map((v) => v.name)).toEqual(['tmp', 'postgresql-ca', 'secrets-store']);
    expect(spec.containers[0]?.volumeMounts).toContainEqual({
      name: 'secrets-store',
      mountPath: '/mnt/secrets-store',
      readOnly: true,
    });
  });

  it('securityContext overrides tighten the restricted profile', async () => {
    const objects = await allFeatures('user-service');
    for (const o of objects.filter((x) => ['Deployment', 'Job', 'Pod'].includes(x.kind))) {
      const spec = podSpec(o);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, supplementalGroups: [65533] });
      expect(spec.containers[0]?.securityContext).toMatchObject({
        runAsUser: 65533,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it.each([
    ['securityContext.container.privileged=true', /privileged must stay false/],
    ['securityContext.container.allowPrivilegeEscalation=true', /allowPrivilegeEscalation must stay false/],
    ['securityContext.container.readOnlyRootFilesystem=false', /readOnlyRootFilesystem must stay true/],
    ['securityContext.container.runAsNonRoot=false', /runAsNonRoot must stay true/],
    ['securityContext.pod.runAsUser=0', /runAsUser must stay a non-root id/],
    ['securityContext.container.capabilities.add[0]=NET_ADMIN', /no capability may be added/],
    ['securityContext.container.capabilities.drop[0]=NET_RAW', /capabilities.drop must keep ALL/],
    [
      'securityContext.pod.seccompProfile.type=Unconfined',
      /seccompProfile.type must be RuntimeDefault or Localhost/,
    ],
  ])('loosening fails at render time: %s', async (set, message) => {
    await expect(render('user-service', { set: [set] })).rejects.toThrow(message);
  });

  it('a cert-manager Certificate for the Ingress and HTTPRoute host names', async () => {
    const certificate = one(await allFeatures('user-service'), 'Certificate');
    expect(certificate.spec).toMatchObject({
      secretName: 'api-example-com-tls',
      dnsNames: ['api.example.com'],
      issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    });
  });

  it('the Ingress serves the Certificate’s Secret when certificate.enabled is on, even with ingress.tls off', async () => {
    const objects = await render('user-service', {
      set: [
        'ingress.enabled=true',
        'ingress.host=api.example.com',
        'certificate.enabled=true',
        'certificate.issuerRef.name=letsencrypt',
      ],
    });
    const secretName = at(one(objects, 'Certificate'), 'spec.secretName');
    expect(secretName).toBe('user-service-tls');
    expect(at(one(objects, 'Ingress'), 'spec.tls')).toEqual([{ hosts: ['api.example.com'], secretName }]);
    const plain = await render('user-service', {
      set: ['ingress.enabled=true', 'ingress.host=api.example.com'],
    });
    expect(at(one(plain, 'Ingress'), 'spec.tls')).toBeUndefined();
  });

  it('an ExternalSecret for the database URI, written to the Secret the pods read; the AppProject allows the kind', async () => {
    const objects = await allFeatures('user-service');
    const external = one(objects, 'ExternalSecret');
    expect(external.metadata.name).toBe('service-database');
    expect(external.spec).toMatchObject({
      secretStoreRef: { name: 'aws-secrets-manager', kind: 'ClusterSecretStore' },
      target: { name: 'service-database' },
      data: [{ secretKey: 'uri', remoteRef: { key: 'shop/service-database', property: 'uri' } }],
    });
    // The Secret exists only after the ExternalSecret syncs: the migration runs after it (Sync hook).
    expect(jobOf(objects, 'migrate')?.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('Sync');
    const project = one(argocd, 'AppProject');
    expect(at(project, 'spec.namespaceResourceWhitelist')).toContainEqual({
      group: 'external-secrets.io',
      kind: 'ExternalSecret',
    });
  });

  it('a Grafana dashboard ConfigMap with the sidecar label, carrying the compose stack dashboard', async () => {
    const dashboard = (await allFeatures('user-service')).find(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard',
    );
    expect(dashboard?.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const compose = await readFile(
      join(repoRoot, 'microservices/compose/grafana/dashboards/service-pair.json'),
      'utf8',
    );
    const shipped = ((dashboard?.data ?? {}) as Labels)['shop-user-service-service-pair.json'] as string;
    // The compose dashboard, with this release's uid and title and every query pinned to its namespace.
    const pinned = compose
      .replaceAll('job=~\\"$job\\"', 'namespace=\\"shop\\", job=~\\"$job\\"')
      .replace(
        'label_values(http_requests_total, job)',
        'label_values(http_requests_total{namespace=\\"shop\\"}, job)',
      )
      .replace(
        'label_values(http_requests_total, job)',
        'label_values(http_requests_total{namespace=\\"shop\\"}, job)',
      );
    const expected = JSON.parse(pinned) as { uid: string; title: string; panels: unknown[] };
    const got = JSON.parse(shipped) as { uid: string; title: string; panels: unknown[] };
    expect(got.uid).toMatch(/^sp-[0-9a-f]{16}$/);
    expect(got.title).toBe(`${expected.title} (shop)`);
    expect({ ...got, uid: expected.uid, title: expected.title }).toEqual(expected);
    // The file is a symlink into microservices/compose: a broken one (vendoring) must not ship an empty dashboard.
    expect(got.panels.length).toBeGreaterThan(3);
    expect(shipped).not.toMatch(/(?<!namespace=\\"shop\\", )job=~/);
  });

  it('one dashboard per release and namespace: uid and data key differ between environments', async () => {
    const inNamespace = async (namespace: string) => {
      const objects = await renderObjects({
        name: `user-service in ${namespace}`,
        release: 'user-service',
        namespace,
        valuesFiles: [presetValues('user-service'), ciValues('all-features')],
      });
      const cm = objects.find((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard');
      const [key, json] = Object.entries((cm?.data ?? {}) as Labels)[0] ?? ['', '{}'];
      return { key, uid: (JSON.parse(json) as { uid: string }).uid, namespace: cm?.metadata.namespace };
    };
    const [dev, prod] = await Promise.all([
      inNamespace('microservices-dev'),
      inNamespace('microservices-prod'),
    ]);
    expect(dev.key).not.toBe(prod.key);
    expect(dev.uid).not.toBe(prod.uid);
    // In the app namespace (which the AppProject allows; the sidecar with searchNamespace=ALL finds it).
    expect(dev.namespace).toBe('microservices-dev');
  });

  it('refuses to render an empty dashboard (a broken symlink after vendoring)', async () => {
    const copy = join(scratchDir, 'chart-broken-dashboard');
    await rm(copy, { recursive: true, force: true });
    await cp(chartDir, copy, { recursive: true, dereference: true });
    await writeFile(join(copy, 'files', 'dashboards', 'service-pair.json'), '');
    const { helm, env } = await ensureTools();
    const result = await runCommand(
      helm,
      [
        'template',
        'user-service',
        copy,
        '-f',
        presetValues('user-service'),
        '--set',
        'metrics.grafanaDashboard.enabled=true',
      ],
      { env },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/service-pair.json is empty or has no panels: the symlink/);
  });
});

describe('the manual (MICROSERVICES_README.md, "Deploying to Kubernetes")', () => {
  it('states the prerequisites (operator versions, metrics-server, the Prometheus selectors), the knobs and a real cluster checklist', async () => {
    const manual = await readFile(join(repoRoot, 'MICROSERVICES_README.md'), 'utf8');
    const start = manual.indexOf('## Deploying to Kubernetes');
    const section = manual.slice(start, manual.indexOf('\n## ', start + 1));
    for (const needle of [
      '### Prerequisites',
      '### Real cluster checklist',
      'metrics-server',
      'kube-prometheus-stack 88.x',
      'CloudNativePG',
      'Argo CD',
      'progressive syncs',
      'metrics.prometheus',
      'sslmode=verify-full',
      'postgresql.tls',
      'nodeSelector',
      'tolerations',
      'affinity',
      'serviceAccount.annotations',
      'service.annotations',
      'extraVolumes',
      'securityContext.pod',
      'certificate',
      'postgresql.externalSecret',
      'metrics.grafanaDashboard',
      'networkPolicy.dns.cidrs',
      'extraIngress',
      'userService.namespace',
      'enablePDB: false',
      'Prune=false,Delete=false',
      'postgresql.cnpg.backup',
    ]) {
      expect(section, needle).toContain(needle);
    }
  });
});

describe('trusted proxies name the client of rate limits and of request bodies', () => {
  it('TRUSTED_PROXIES reaches the pods with the rate limit on or off (request bodies are charged per client either way)', async () => {
    for (const enabled of ['true', 'false']) {
      const objects = await render('user-service', {
        set: [`rateLimit.enabled=${enabled}`, 'rateLimit.trustedProxies[0]=10.0.0.0/8'],
      });
      expect(configOf(objects).TRUSTED_PROXIES, `rateLimit.enabled=${enabled}`).toBe('10.0.0.0/8');
      expect(configOf(objects).RATE_LIMIT_ENABLED).toBe(enabled);
    }
  });
});

describe('the kubelet probes a port of its own', () => {
  type Probe = { httpGet: { port: string | number; path: string } };
  const probesOf = (objects: K8sObject[]) => {
    const container = podSpec(one(objects, 'Deployment')).containers[0] as Record<string, Probe>;
    return ['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => container[p] as Probe);
  };

  it('by default every probe targets the `probes` container port, which PROBE_PORT opens, and the Service does not expose it', async () => {
    for (const service of ['user-service', 'order-service'] as const) {
      const objects = await render(service);
      const ports = namedPorts(objects);
      expect(ports.probes, service).toBe(8081);
      expect(Number(configOf(objects).PROBE_PORT), service).toBe(ports.probes);
      expect(probesOf(objects).map((p) => p.httpGet.port)).toEqual(['probes', 'probes', 'probes']);
      const servicePorts = at(one(objects, 'Service'), 'spec.ports') as Array<{ targetPort: unknown }>;
      expect(servicePorts.map((p) => p.targetPort)).not.toContain('probes');
      expect(servicePorts.map((p) => p.targetPort)).not.toContain(8081);
    }
  });

  it('with probes.port=0 the probes go to the http port and PROBE_PORT is not set', async () => {
    const objects = await render('user-service', { set: ['probes.port=0'] });
    expect(namedPorts(objects).probes).toBeUndefined();
    expect(configOf(objects).PROBE_PORT).toBeUndefined();
    expect(probesOf(objects).map((p) => p.httpGet.port)).toEqual(['http', 'http', 'http']);
  });

  it('a probes.port equal to containerPort fails the render with a message naming both', async () => {
    await expect(render('user-service', { set: ['probes.port=8000'] })).rejects.toThrow(
      /probes.port \(8000\) must differ from containerPort/,
    );
  });
});
