/**
 * How Deployments roll, shut down, scale and probe the real services. Each takes rendered objects and
 * returns the problems it found (empty = pass), so a test can show a clean render passes and a broken one
 * fails.
 */

import { describe, type K8sObject } from './manifests.js';
import { containerEnv, deploymentPods, type Labels, matches, specOf } from './pod-templates.js';
import type { ServiceFacts } from './services.js';

/** Rollout and shutdown invariants of each Deployment. */
export function checkDeployments(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const pod of deploymentPods(objects)) {
    const d = pod.owner;
    const at = describe(d);
    const dspec = specOf<{
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
  const pods = deploymentPods(objects).filter((p) => p.labels['app.kubernetes.io/name'] === facts.name);
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

/**
 * Replica rules: the embedded store (no DATABASE_URL) runs exactly one pod and never autoscales; a
 * PodDisruptionBudget only exists when more than one pod runs.
 */
export function checkReplicaRules(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const pod of deploymentPods(objects)) {
    const d = pod.owner;
    const hasDb = pod.spec.containers.some((c) => (c.env ?? []).some((e) => e.name === 'DATABASE_URL'));
    const replicas = specOf<{ replicas?: number }>(d).replicas;
    const hpa = objects.find(
      (o) =>
        o.kind === 'HorizontalPodAutoscaler' &&
        specOf<{ scaleTargetRef: { name: string } }>(o).scaleTargetRef.name === d.metadata.name,
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
        matches(specOf<{ selector?: { matchLabels?: Labels } }>(o).selector?.matchLabels, pod.labels),
    );
    if (pdb && !hpa && (replicas ?? 1) <= 1)
      problems.push(`${describe(pdb)}: a disruption budget for a single pod blocks node drains`);
  }
  return problems;
}
