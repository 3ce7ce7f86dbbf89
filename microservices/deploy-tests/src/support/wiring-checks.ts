/**
 * References between rendered objects: what one names exists and selects something. Each takes rendered
 * objects and returns the problems it found (empty = pass), so a test can show a clean render passes and a
 * broken one fails.
 */

import { describe, type K8sObject } from './manifests.js';
import {
  containersOf,
  deploymentPods,
  findObject,
  type Labels,
  matches,
  podTemplates,
  servicePorts,
  serviceSelector,
  specOf,
} from './pod-templates.js';

/** Services, ServiceMonitors, PDBs, HPAs, Ingresses, HTTPRoutes, ConfigMaps and Secrets point at what exists. */
export function checkWiring(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const pods = deploymentPods(objects);
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
    const s = specOf<{ selector?: { matchLabels?: Labels }; endpoints?: Array<{ port?: string }> }>(sm);
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
    const selector = specOf<{ selector?: { matchLabels?: Labels } }>(pdb).selector?.matchLabels;
    if (!pods.some((p) => matches(selector, p.labels)))
      problems.push(`${describe(pdb)}: selects no Deployment's pods`);
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = specOf<{ scaleTargetRef: { kind: string; name: string } }>(hpa).scaleTargetRef;
    if (!findObject(objects, target.kind, target.name))
      problems.push(`${describe(hpa)}: no ${target.kind} ${target.name}`);
  }
  const servicePort = (name: string, port: { name?: string; number?: number }) => {
    const svc = findObject(objects, 'Service', name);
    return svc && servicePorts(svc).some((p) => (port.name ? p.name === port.name : p.port === port.number));
  };
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    const rules = specOf<{
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
    const rules = specOf<{ rules?: Array<{ backendRefs?: Array<{ name: string; port?: number }> }> }>(
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
    if (sa && sa !== 'default' && !findObject(objects, 'ServiceAccount', sa)) {
      problems.push(`${describe(pod.owner)}: ServiceAccount ${sa} is not rendered`);
    }
    for (const c of containersOf(pod)) {
      for (const source of c.envFrom ?? []) {
        if (source.configMapRef && !findObject(objects, 'ConfigMap', source.configMapRef.name)) {
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
