/**
 * Cross-checks that would otherwise only fail in a cluster. Each takes rendered objects and returns the
 * problems it found (empty = pass), so a test can show a clean render passes and a broken one fails.
 */

import { describe, isObject, type K8sObject } from './manifests.js';
import type { ServiceFacts } from './services.js';

type Labels = Record<string, string>;

interface Probe {
  httpGet?: { path?: string; port?: string | number };
  exec?: unknown;
  tcpSocket?: unknown;
  grpc?: unknown;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{
    topologyKey: string;
    labelSelector?: { matchLabels?: Labels };
  }>;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    seccompProfile?: { type?: string };
  };
  volumes?: Array<{ name: string; emptyDir?: unknown; hostPath?: unknown }>;
}

export interface PodTemplate {
  owner: K8sObject;
  labels: Labels;
  annotations: Labels;
  spec: PodSpec;
}

const spec = <T>(o: K8sObject): T => (o.spec ?? {}) as T;

/** Every pod an object creates: Deployment and Job templates, and bare Pods (helm test). */
export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'Job') {
      const template = spec<{
        template: { metadata?: { labels?: Labels; annotations?: Labels }; spec: PodSpec };
      }>(o).template;
      templates.push({
        owner: o,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations ?? {},
        spec: template.spec,
      });
    } else if (o.kind === 'Pod') {
      templates.push({
        owner: o,
        labels: o.metadata.labels ?? {},
        annotations: o.metadata.annotations ?? {},
        spec: spec<PodSpec>(o),
      });
    }
  }
  return templates;
}

const containersOf = (p: PodTemplate) => [...(p.spec.initContainers ?? []), ...p.spec.containers];

export const matches = (selector: Labels | undefined, labels: Labels) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value);

const deployments = (objects: readonly K8sObject[]) =>
  podTemplates(objects).filter((p) => p.owner.kind === 'Deployment');

const find = (objects: readonly K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

const configMapData = (objects: readonly K8sObject[], container: Container): Labels => {
  const data: Labels = {};
  for (const source of container.envFrom ?? []) {
    const cm = source.configMapRef ? find(objects, 'ConfigMap', source.configMapRef.name) : undefined;
    Object.assign(data, (cm?.data ?? {}) as Labels);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) data[e.name] = e.value;
  return data;
};

/** The environment a container sees from its ConfigMaps and plain `env` values. */
export function containerEnv(objects: readonly K8sObject[], container: Container): Labels {
  return configMapData(objects, container);
}

export const UID = 65532;

/** Security invariants for every container of every pod (server, hooks, tests). */
export function checkSecurityContexts(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const pod of podTemplates(objects)) {
    const at = describe(pod.owner);
    const psc = pod.spec.securityContext ?? {};
    if (pod.spec.automountServiceAccountToken !== false)
      problems.push(`${at}: automountServiceAccountToken must be false`);
    if (psc.runAsNonRoot !== true) problems.push(`${at}: pod runAsNonRoot must be true`);
    if (psc.runAsUser !== UID || psc.runAsGroup !== UID)
      problems.push(`${at}: pod must run as ${UID}:${UID}`);
    if (psc.seccompProfile?.type !== 'RuntimeDefault')
      problems.push(`${at}: pod seccompProfile must be RuntimeDefault`);
    if (pod.spec.hostNetwork || pod.spec.hostPID || pod.spec.hostIPC)
      problems.push(`${at}: host namespaces are shared`);
    const volumes = pod.spec.volumes ?? [];
    if (volumes.some((v) => v.hostPath !== undefined)) problems.push(`${at}: hostPath volume`);
    const tmp = volumes.find((v) => v.name === 'tmp');
    if (!tmp || tmp.emptyDir === undefined) problems.push(`${at}: no emptyDir volume named tmp`);
    for (const c of containersOf(pod)) {
      const cat = `${at} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${cat}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${cat}: readOnlyRootFilesystem must be true`);
      if (sc.privileged === true) problems.push(`${cat}: privileged`);
      if (sc.runAsNonRoot === false) problems.push(`${cat}: runAsNonRoot is false`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${cat}: capabilities must drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${cat}: adds capabilities`);
      if ((sc.seccompProfile?.type ?? psc.seccompProfile?.type) !== 'RuntimeDefault') {
        problems.push(`${cat}: seccompProfile must be RuntimeDefault`);
      }
      if (!c.volumeMounts?.some((m) => m.name === 'tmp' && m.mountPath === '/tmp')) {
        problems.push(`${cat}: /tmp is not mounted from the tmp emptyDir (the only writable path)`);
      }
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        if (probe?.exec !== undefined) problems.push(`${cat}: exec probe (the image has no shell)`);
      }
      if (c.lifecycle?.preStop?.exec !== undefined)
        problems.push(`${cat}: exec preStop (the image has no shell)`);
      const requests = c.resources?.requests ?? {};
      if (requests.cpu === undefined || requests.memory === undefined) {
        problems.push(`${cat}: resources.requests.cpu and .memory are required`);
      }
      if (c.resources?.limits?.memory === undefined)
        problems.push(`${cat}: resources.limits.memory is required`);
    }
  }
  return problems;
}

/** Rollout and shutdown invariants of each Deployment. */
export function checkDeployments(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const pod of deployments(objects)) {
    const d = pod.owner;
    const at = describe(d);
    const dspec = spec<{
      selector?: { matchLabels?: Labels };
      strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
    }>(d);
    if (!matches(dspec.selector?.matchLabels, pod.labels))
      problems.push(`${at}: selector does not match its pod labels`);
    if (dspec.strategy?.type !== 'RollingUpdate' || dspec.strategy.rollingUpdate?.maxUnavailable !== 0) {
      problems.push(`${at}: rolling update must use maxUnavailable: 0`);
    }
    if (!/^[a-f0-9]{64}$/.test(pod.annotations['checksum/config'] ?? '')) {
      problems.push(
        `${at}: pod template lacks the checksum/config annotation (config changes would not roll pods)`,
      );
    }
    const keys = (pod.spec.topologySpreadConstraints ?? [])
      .filter((t) => matches(t.labelSelector?.matchLabels, pod.labels))
      .map((t) => t.topologyKey);
    for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
      if (!keys.includes(key)) problems.push(`${at}: no topology spread over ${key} selecting its own pods`);
    }
    for (const c of pod.spec.containers) {
      const names = new Set((c.ports ?? []).map((p) => p.name));
      const probes = { startup: c.startupProbe, liveness: c.livenessProbe, readiness: c.readinessProbe };
      for (const [kind, probe] of Object.entries(probes)) {
        if (!probe?.httpGet) {
          problems.push(`${at}: ${kind} probe must be httpGet`);
          continue;
        }
        if (typeof probe.httpGet.port !== 'string' || !names.has(probe.httpGet.port)) {
          problems.push(
            `${at}: ${kind} probe port ${String(probe.httpGet.port)} is not a named container port`,
          );
        }
      }
      const env = containerEnv(objects, c);
      const sleep = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      const drain = Number(env.SHUTDOWN_DELAY_MS ?? 5000) + Number(env.SHUTDOWN_TIMEOUT_MS ?? 10000);
      const needed = sleep + Math.ceil(drain / 1000);
      const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
      if (grace < needed) {
        problems.push(
          `${at}: terminationGracePeriodSeconds ${grace} < preStop ${sleep}s + shutdown ${drain}ms`,
        );
      }
    }
  }
  return problems;
}

/** Probes and ports against the real service: paths in its OpenAPI document answering 200, PORT = containerPort. */
export async function checkAgainstService(
  objects: readonly K8sObject[],
  facts: ServiceFacts,
): Promise<string[]> {
  const problems: string[] = [];
  const pods = deployments(objects).filter((p) => p.labels['app.kubernetes.io/name'] === facts.name);
  if (pods.length === 0) problems.push(`no Deployment for ${facts.name}`);
  for (const pod of pods) {
    const at = describe(pod.owner);
    for (const c of pod.spec.containers) {
      const http = (c.ports ?? []).find((p) => p.name === 'http');
      const env = containerEnv(objects, c);
      if (http?.containerPort !== facts.port) {
        problems.push(
          `${at}: container port http is ${http?.containerPort}, ${facts.name} listens on ${facts.port}`,
        );
      }
      if (env.PORT !== undefined && Number(env.PORT) !== http?.containerPort) {
        problems.push(`${at}: PORT=${env.PORT} but the container port is ${http?.containerPort}`);
      }
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        const path = probe?.httpGet?.path;
        if (path === undefined) continue;
        if (!facts.paths.has(path)) {
          problems.push(`${at}: probe path ${path} is not a route of ${facts.name}`);
        } else {
          const status = await facts.statusOf(path);
          if (status !== 200) problems.push(`${at}: ${facts.name} answers ${path} with ${status}, not 200`);
        }
      }
    }
  }
  return problems;
}

const servicePorts = (svc: K8sObject) =>
  spec<{ ports?: Array<{ name?: string; port: number; targetPort?: string | number }> }>(svc).ports ?? [];
const serviceSelector = (svc: K8sObject) => spec<{ selector?: Labels }>(svc).selector;

/** Services, ServiceMonitors, PDBs, HPAs, Ingresses, HTTPRoutes, ConfigMaps and Secrets point at what exists. */
export function checkWiring(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const pods = deployments(objects);
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const at = describe(svc);
    const targets = pods.filter((p) => matches(serviceSelector(svc), p.labels));
    if (targets.length === 0) problems.push(`${at}: selector matches no Deployment's pods`);
    for (const port of servicePorts(svc)) {
      for (const pod of targets) {
        const named = pod.spec.containers.flatMap((c) => c.ports ?? []);
        const ok =
          typeof port.targetPort === 'string'
            ? named.some((p) => p.name === port.targetPort)
            : named.some((p) => p.containerPort === (port.targetPort ?? port.port));
        if (!ok)
          problems.push(
            `${at}: targetPort ${String(port.targetPort)} is not a port of ${describe(pod.owner)}`,
          );
      }
    }
  }
  for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const s = spec<{ selector?: { matchLabels?: Labels }; endpoints?: Array<{ port?: string }> }>(sm);
    const svcs = objects.filter(
      (o) => o.kind === 'Service' && matches(s.selector?.matchLabels, o.metadata.labels ?? {}),
    );
    if (svcs.length === 0) problems.push(`${describe(sm)}: selector matches no Service`);
    for (const endpoint of s.endpoints ?? []) {
      for (const svc of svcs) {
        if (!servicePorts(svc).some((p) => p.name === endpoint.port)) {
          problems.push(`${describe(sm)}: endpoint port ${endpoint.port} is not a port of ${describe(svc)}`);
        }
      }
    }
  }
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selector = spec<{ selector?: { matchLabels?: Labels } }>(pdb).selector?.matchLabels;
    if (!pods.some((p) => matches(selector, p.labels)))
      problems.push(`${describe(pdb)}: selects no Deployment's pods`);
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = spec<{ scaleTargetRef: { kind: string; name: string } }>(hpa).scaleTargetRef;
    if (!find(objects, target.kind, target.name))
      problems.push(`${describe(hpa)}: no ${target.kind} ${target.name}`);
  }
  const servicePort = (name: string, port: { name?: string; number?: number }) => {
    const svc = find(objects, 'Service', name);
    return svc && servicePorts(svc).some((p) => (port.name ? p.name === port.name : p.port === port.number));
  };
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    const rules = spec<{
      rules?: Array<{
        http?: {
          paths: Array<{ backend: { service?: { name: string; port: { name?: string; number?: number } } } }>;
        };
      }>;
    }>(ing).rules;
    for (const path of (rules ?? []).flatMap((r) => r.http?.paths ?? [])) {
      const backend = path.backend.service;
      if (!backend || !servicePort(backend.name, backend.port)) {
        problems.push(
          `${describe(ing)}: backend ${backend?.name}:${JSON.stringify(backend?.port)} does not exist`,
        );
      }
    }
  }
  for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
    const rules = spec<{ rules?: Array<{ backendRefs?: Array<{ name: string; port?: number }> }> }>(
      route,
    ).rules;
    for (const ref of (rules ?? []).flatMap((r) => r.backendRefs ?? [])) {
      if (!servicePort(ref.name, { number: ref.port ?? 0 })) {
        problems.push(`${describe(route)}: backendRef ${ref.name}:${ref.port} does not exist`);
      }
    }
  }
  const clusters = new Set(objects.filter((o) => o.kind === 'Cluster').map((o) => o.metadata.name));
  for (const pod of podTemplates(objects)) {
    const sa = pod.spec.serviceAccountName;
    if (sa && sa !== 'default' && !find(objects, 'ServiceAccount', sa)) {
      problems.push(`${describe(pod.owner)}: ServiceAccount ${sa} is not rendered`);
    }
    for (const c of containersOf(pod)) {
      for (const source of c.envFrom ?? []) {
        if (source.configMapRef && !find(objects, 'ConfigMap', source.configMapRef.name)) {
          problems.push(`${describe(pod.owner)}: ConfigMap ${source.configMapRef.name} is not rendered`);
        }
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        // CloudNativePG writes `<cluster>-app` with a `uri` key; any other Secret is the user's (existingSecret).
        if (ref?.name.endsWith('-app') && !clusters.has(ref.name.slice(0, -4)) && clusters.size > 0) {
          problems.push(
            `${describe(pod.owner)}: Secret ${ref.name} belongs to no rendered CloudNativePG Cluster`,
          );
        }
        if (ref && clusters.has(ref.name.slice(0, -4)) && ref.key !== 'uri') {
          problems.push(`${describe(pod.owner)}: CloudNativePG app Secret key must be uri, not ${ref.key}`);
        }
      }
    }
  }
  return problems;
}

interface PolicyPeer {
  podSelector?: { matchLabels?: Labels };
  namespaceSelector?: { matchLabels?: Labels };
  ipBlock?: unknown;
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: Array<{ port?: string | number; protocol?: string }>;
}

/**
 * NetworkPolicies against the real pods of the namespace (both services rendered together): selectors match
 * pod labels, named ports exist on the pods they address, user-service admits order-service, order-service
 * may reach user-service and DNS.
 */
export function checkNetworkPolicies(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const pods = podTemplates(objects);
  const clusters = new Set(objects.filter((o) => o.kind === 'Cluster').map((o) => o.metadata.name));
  const portExists = (targets: PodTemplate[], port: string | number | undefined) =>
    targets.every((pod) =>
      pod.spec.containers.some((c) =>
        (c.ports ?? []).some((p) => (typeof port === 'string' ? p.name === port : p.containerPort === port)),
      ),
    );
  for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const at = describe(np);
    const s = spec<{
      podSelector?: { matchLabels?: Labels };
      ingress?: PolicyRule[];
      egress?: PolicyRule[];
      policyTypes?: string[];
    }>(np);
    const own = pods.filter((p) => matches(s.podSelector?.matchLabels, p.labels));
    if (!own.some((p) => p.owner.kind === 'Deployment'))
      problems.push(`${at}: podSelector matches no Deployment's pods`);
    if (!s.policyTypes?.includes('Ingress') || !s.policyTypes.includes('Egress')) {
      problems.push(`${at}: must restrict both Ingress and Egress (default deny)`);
    }
    const servers = own.filter((p) => p.owner.kind === 'Deployment');
    const usesDatabase = servers.some((p) =>
      p.spec.containers.some((c) => (c.env ?? []).some((e) => e.name === 'DATABASE_URL')),
    );
    const databaseRule = (s.egress ?? []).some(
      (rule) =>
        (rule.ports ?? []).some((p) => p.port === 5432) &&
        (rule.to === undefined ||
          rule.to.some(
            (peer) =>
              peer.ipBlock !== undefined || peer.podSelector?.matchLabels?.['cnpg.io/cluster'] !== undefined,
          )),
    );
    if (usesDatabase && !databaseRule)
      problems.push(`${at}: its pods use DATABASE_URL but no egress reaches a database on 5432`);
    for (const rule of s.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        if (!portExists(servers, port.port))
          problems.push(`${at}: ingress port ${port.port} is not a port of its pods`);
      }
      for (const peer of rule.from ?? []) {
        if (
          peer.podSelector &&
          !peer.namespaceSelector &&
          !pods.some((p) => matches(peer.podSelector?.matchLabels, p.labels))
        ) {
          problems.push(
            `${at}: ingress from ${JSON.stringify(peer.podSelector.matchLabels)} matches no pod in the namespace`,
          );
        }
      }
    }
    for (const rule of s.egress ?? []) {
      for (const peer of rule.to ?? []) {
        if (!peer.podSelector || peer.namespaceSelector) continue;
        const labels = peer.podSelector.matchLabels ?? {};
        const cnpg = labels['cnpg.io/cluster'];
        if (cnpg !== undefined) {
          if (!clusters.has(cnpg))
            problems.push(`${at}: egress to CloudNativePG cluster ${cnpg}, which is not rendered`);
          continue;
        }
        const targets = pods.filter((p) => p.owner.kind === 'Deployment' && matches(labels, p.labels));
        if (targets.length === 0) {
          problems.push(`${at}: egress to ${JSON.stringify(labels)} matches no pod in the namespace`);
          continue;
        }
        for (const port of rule.ports ?? []) {
          if (!portExists(targets, port.port))
            problems.push(`${at}: egress port ${port.port} is not a port of ${JSON.stringify(labels)}`);
        }
      }
    }
  }
  return problems;
}

/** Whether `from` pods may open a connection to `to` pods on `port` under every NetworkPolicy in `objects`. */
export function allowed(
  objects: readonly K8sObject[],
  from: PodTemplate,
  to: PodTemplate,
  port: string,
): boolean {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const selects = (np: K8sObject, pod: PodTemplate) =>
    matches(spec<{ podSelector?: { matchLabels?: Labels } }>(np).podSelector?.matchLabels, pod.labels);
  // A named port in a rule, or the number it names on the destination pods (the chart renders numbers: EKS).
  const number = (to.spec.containers ?? [])
    .flatMap((c) => (c.ports ?? []) as Array<{ name?: string; containerPort?: number }>)
    .find((p) => p.name === port)?.containerPort;
  const portOk = (rule: PolicyRule) =>
    !rule.ports || rule.ports.some((p) => p.port === port || (number !== undefined && p.port === number));
  const egressPolicies = policies.filter((np) => selects(np, from));
  const egressOk =
    egressPolicies.length === 0 ||
    egressPolicies.some((np) =>
      (spec<{ egress?: PolicyRule[] }>(np).egress ?? []).some(
        (rule) =>
          portOk(rule) &&
          (rule.to ?? []).some(
            (peer) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, to.labels),
          ),
      ),
    );
  const ingressPolicies = policies.filter((np) => selects(np, to));
  const ingressOk =
    ingressPolicies.length === 0 ||
    ingressPolicies.some((np) =>
      (spec<{ ingress?: PolicyRule[] }>(np).ingress ?? []).some(
        (rule) =>
          portOk(rule) &&
          (rule.from ?? []).some(
            (peer) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, from.labels),
          ),
      ),
    );
  return egressOk && ingressOk;
}

/** order-service → user-service: USER_SERVICE_URL names the user-service Service and port, and policies allow it. */
export function checkUserServiceLink(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const orderPods = deployments(objects).filter(
    (p) => p.labels['app.kubernetes.io/name'] === 'order-service',
  );
  for (const pod of orderPods) {
    const at = describe(pod.owner);
    const env = containerEnv(objects, pod.spec.containers[0] as Container);
    const raw = env.USER_SERVICE_URL;
    if (!raw) {
      problems.push(`${at}: USER_SERVICE_URL is not set (the default 127.0.0.1 never works in a cluster)`);
      continue;
    }
    const url = new URL(raw);
    const namespace = pod.owner.metadata.namespace ?? 'default';
    const [serviceName, ns = namespace, svcLabel, ...rest] = url.hostname.split('.');
    const shape =
      (svcLabel === undefined || svcLabel === 'svc') &&
      (rest.length === 0 || rest.join('.') === 'cluster.local');
    const svc = serviceName ? find(objects, 'Service', serviceName) : undefined;
    if (!shape || !svc) {
      problems.push(`${at}: USER_SERVICE_URL host ${url.hostname} is not a Service rendered here`);
      continue;
    }
    if (ns !== (svc.metadata.namespace ?? 'default'))
      problems.push(`${at}: USER_SERVICE_URL namespace ${ns} is not ${svc.metadata.namespace}`);
    const userPods = deployments(objects).filter((p) => matches(serviceSelector(svc), p.labels));
    if (!userPods.some((p) => p.labels['app.kubernetes.io/name'] === 'user-service')) {
      problems.push(
        `${at}: USER_SERVICE_URL points at ${describe(svc)}, which does not select user-service pods`,
      );
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const svcPort = servicePorts(svc).find((p) => p.port === port);
    if (!svcPort) {
      problems.push(`${at}: USER_SERVICE_URL port ${port} is not a port of ${describe(svc)}`);
      continue;
    }
    for (const target of userPods) {
      if (typeof svcPort.targetPort === 'string' && !allowed(objects, pod, target, svcPort.targetPort)) {
        problems.push(
          `${at}: NetworkPolicies block order-service → ${describe(target.owner)} on ${svcPort.targetPort}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Images: `<registry>/<owner>/<app name>:<tag>[@sha256:…]`, the same registry/owner everywhere, and every
 * container of a release (server, migration, smoke, wait) running the release's one image.
 */
export function checkImages(
  objects: readonly K8sObject[],
  expected: { registry: string; owner: string },
): string[] {
  const problems: string[] = [];
  const byRelease = new Map<string, Set<string>>();
  const pattern =
    /^(?<registry>[^/]+)\/(?<owner>[^/]+)\/(?<name>[^:@]+):(?<tag>[\w][\w.-]{0,127})(@sha256:[a-f0-9]{64})?$/;
  for (const pod of podTemplates(objects)) {
    const app = pod.labels['app.kubernetes.io/name'] ?? '?';
    const release = `${pod.owner.metadata.namespace}/${pod.labels['app.kubernetes.io/instance']}`;
    for (const c of containersOf(pod)) {
      const m = pattern.exec(c.image)?.groups;
      const at = `${describe(pod.owner)} container ${c.name}`;
      if (!m) {
        problems.push(`${at}: image ${c.image} is not <registry>/<owner>/<name>:<tag>[@sha256:<digest>]`);
        continue;
      }
      if (m.registry !== expected.registry || m.owner !== expected.owner) {
        problems.push(`${at}: image ${c.image} is not under ${expected.registry}/${expected.owner}`);
      }
      if (m.name !== app) problems.push(`${at}: image ${c.image} does not belong to ${app}`);
      const images = byRelease.get(release) ?? new Set<string>();
      images.add(c.image);
      byRelease.set(release, images);
    }
  }
  for (const [release, images] of byRelease) {
    if (images.size > 1)
      problems.push(`${release}: containers run different images: ${[...images].join(', ')}`);
  }
  return problems;
}

/**
 * Replica rules: the embedded store (no DATABASE_URL) runs exactly one pod and never autoscales; a
 * PodDisruptionBudget only exists when more than one pod runs.
 */
export function checkReplicaRules(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const pod of deployments(objects)) {
    const d = pod.owner;
    const hasDb = pod.spec.containers.some((c) => (c.env ?? []).some((e) => e.name === 'DATABASE_URL'));
    const replicas = spec<{ replicas?: number }>(d).replicas;
    const hpa = objects.find(
      (o) =>
        o.kind === 'HorizontalPodAutoscaler' &&
        spec<{ scaleTargetRef: { name: string } }>(o).scaleTargetRef.name === d.metadata.name,
    );
    if (!hasDb && (replicas !== 1 || hpa)) {
      problems.push(
        `${describe(d)}: embedded in-memory store but replicas=${replicas}${hpa ? ' and an HPA' : ''}`,
      );
    }
    if (hpa && replicas !== undefined)
      problems.push(`${describe(d)}: sets replicas although an HPA owns them`);
    const pdb = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        matches(spec<{ selector?: { matchLabels?: Labels } }>(o).selector?.matchLabels, pod.labels),
    );
    if (pdb && !hpa && (replicas ?? 1) <= 1)
      problems.push(`${describe(pdb)}: a disruption budget for a single pod blocks node drains`);
  }
  return problems;
}

/** Fault injection is never on in a prod namespace or release. */
export function checkNoFaultsInProd(objects: readonly K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ConfigMap' && isObject(o.data) && o.data.FAULTS_ENABLED === 'true')
    .filter((o) => o.metadata.labels?.environment === 'prod' || (o.metadata.namespace ?? '').endsWith('prod'))
    .map((o) => `${describe(o)}: FAULTS_ENABLED=true in prod`);
}
