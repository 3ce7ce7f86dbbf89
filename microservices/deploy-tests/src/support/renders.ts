import { join } from 'node:path';
import { k8sDir } from './deploy-paths.js';
import { type Combination, combinations, ENVIRONMENTS, type EnvironmentName, renderObjects } from './helm.js';
import { type K8sObject, parseManifests } from './manifests.js';
import { ensureTools, runCommand } from './tools.js';

export interface Rendered {
  combination: Combination;
  objects: K8sObject[];
}

/** Runs `work` over `items` with at most `limit` at once (helm processes on a 2-core machine). */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every chart combination rendered (helm test pods included). */
export async function renderAllCombinations(): Promise<Rendered[]> {
  return mapLimited(combinations(), 4, async (combination) => ({
    combination,
    objects: await renderObjects(combination),
  }));
}

/** `kubectl kustomize DIR` (no --enable-helm: what `kubectl apply -k` and Argo CD see). */
export async function kustomize(
  dir: string,
): Promise<{ code: number; objects: K8sObject[]; stderr: string }> {
  const { kubectl } = await ensureTools();
  const result = await runCommand(kubectl, ['kustomize', dir]);
  if (result.code !== 0) return { code: result.code, objects: [], stderr: result.stderr };
  return { code: 0, objects: parseManifests(result.stdout, dir), stderr: '' };
}

async function kustomizeOrThrow(dir: string): Promise<K8sObject[]> {
  const result = await kustomize(dir);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return result.objects;
}

export const loadEnvironment = (env: EnvironmentName) => kustomizeOrThrow(join(k8sDir, env));
export const loadArgoCd = () => kustomizeOrThrow(join(k8sDir, 'argocd'));

export async function loadAllEnvironments(): Promise<Record<EnvironmentName, K8sObject[]>> {
  const loaded = await Promise.all(ENVIRONMENTS.map(loadEnvironment));
  return Object.fromEntries(ENVIRONMENTS.map((env, i) => [env, loaded[i] as K8sObject[]])) as Record<
    EnvironmentName,
    K8sObject[]
  >;
}
