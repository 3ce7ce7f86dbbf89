/**
 * NetworkPolicies, and the order-service → user-service link through them. Each takes rendered objects and
 * returns the problems it found (empty = pass), so a test can show a clean render passes and a broken one
 * fails.
 */

import { describe, type K8sObject } from './manifests.js';
import {
  type Container,
  containerEnv,
  deploymentPods,
  findObject,
  type Labels,
  matches,
  type PodTemplate,
  podTemplates,
  servicePorts,
  serviceSelector,
  specOf,
} from './pod-templates.js';

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
    const s = specOf<{
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
    matches(specOf<{ podSelector?: { matchLabels?: Labels } }>(np).podSelector?.matchLabels, pod.labels);
  // A named port in a rule, or the number it names on the destination pods (the chart renders numbers: EKS).
  const number = (to.spec.containers ?? [])
    .flatMap((c) => (c.ports ?? []) as Array<{ name?: string; containerPort?: number }>)
    .find((p) => p.name === port)?.containerPort;
  const portOk = (rule: PolicyRule) =>
    !rule.ports || rule.ports.some((p) => p.port === port || (number !== undefined && p.port === number));
  // One side lets the traffic through when no policy selects its pods, or one of those has a rule for the port
  // naming the pods on the other side (egress rules name them in `to`, ingress rules in `from`).
  const sideAllows = (pod: PodTemplate, direction: 'egress' | 'ingress', other: PodTemplate) => {
    const selecting = policies.filter((np) => selects(np, pod));
    return (
      selecting.length === 0 ||
      selecting.some((np) =>
        (specOf<{ egress?: PolicyRule[]; ingress?: PolicyRule[] }>(np)[direction] ?? []).some(
          (rule) =>
            portOk(rule) &&
            ((direction === 'egress' ? rule.to : rule.from) ?? []).some(
              (peer) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, other.labels),
            ),
        ),
      )
    );
  };
  return sideAllows(from, 'egress', to) && sideAllows(to, 'ingress', from);
}

/** order-service → user-service: USER_SERVICE_URL names the user-service Service and port, and policies allow it. */
export function checkUserServiceLink(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const orderPods = deploymentPods(objects).filter(
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
    const svc = serviceName ? findObject(objects, 'Service', serviceName) : undefined;
    if (!shape || !svc) {
      problems.push(`${at}: USER_SERVICE_URL host ${url.hostname} is not a Service rendered here`);
      continue;
    }
    if (ns !== (svc.metadata.namespace ?? 'default'))
      problems.push(`${at}: USER_SERVICE_URL namespace ${ns} is not ${svc.metadata.namespace}`);
    const userPods = deploymentPods(objects).filter((p) => matches(serviceSelector(svc), p.labels));
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
