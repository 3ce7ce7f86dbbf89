/**
 * Which image every container of a release runs. Each takes rendered objects and returns the problems it
 * found (empty = pass), so a test can show a clean render passes and a broken one fails.
 */

import { describe, type K8sObject } from './manifests.js';
import { containersOf, podTemplates } from './pod-templates.js';

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
