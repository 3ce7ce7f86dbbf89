/**
 * Pod security and production safety, checked before a cluster refuses or exposes them. Each takes rendered
 * objects and returns the problems it found (empty = pass), so a test can show a clean render passes and a
 * broken one fails.
 */

import { describe, isObject, type K8sObject } from './manifests.js';
import { containersOf, podTemplates } from './pod-templates.js';

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

/** Fault injection is never on in a prod namespace or release. */
export function checkNoFaultsInProd(objects: readonly K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ConfigMap' && isObject(o.data) && o.data.FAULTS_ENABLED === 'true')
    .filter((o) => o.metadata.labels?.environment === 'prod' || (o.metadata.namespace ?? '').endsWith('prod'))
    .map((o) => `${describe(o)}: FAULTS_ENABLED=true in prod`);
}
