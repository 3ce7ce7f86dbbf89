import { join } from 'node:path';
import { chartDir, k8sDir, repoRoot } from './deploy-paths.js';
import { type K8sObject, parseManifests } from './manifests.js';
import { ensureTools, runCommand } from './tools.js';

export const SERVICES = ['user-service', 'order-service'] as const;
export type ServiceName = (typeof SERVICES)[number];
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Namespace of an environment (the Argo CD destination and the rendered manifests use the same). */
export const namespaceOf = (env: EnvironmentName) => `microservices-${env}`;

export const presetValues = (service: ServiceName) => join(chartDir, `values-${service}.yaml`);
export const ciValues = (name: string) => join(chartDir, 'ci', `${name}.yaml`);

/** The values files behind k8s/<env>/<service>/manifests.yaml, in the order helm layers them. */
export const environmentValues = (env: EnvironmentName, service: ServiceName) => [
  presetValues(service),
  join(k8sDir, 'values-common.yaml'),
  join(k8sDir, env, 'values.yaml'),
  join(k8sDir, env, service, 'values.yaml'),
];

/** One way to install the chart: a release name, a namespace and the values files layered in order. */
export interface Combination {
  name: string;
  release: string;
  namespace: string;
  valuesFiles: string[];
  /** `--set` overrides (negative tests). */
  set?: string[];
}

/** Every combination the tests render and lint: chart defaults, each service alone, each environment, all features. */
export function combinations(): Combination[] {
  const list: Combination[] = [
    { name: 'chart defaults', release: 'microservice', namespace: 'default', valuesFiles: [] },
  ];
  for (const service of SERVICES) {
    list.push({
      name: `${service}`,
      release: service,
      namespace: 'default',
      valuesFiles: [presetValues(service)],
    });
    for (const env of ENVIRONMENTS) {
      list.push({
        name: `${service} ${env}`,
        release: service,
        namespace: namespaceOf(env),
        valuesFiles: environmentValues(env, service),
      });
    }
    list.push({
      name: `${service} all features`,
      release: service,
      namespace: 'shop',
      valuesFiles: [presetValues(service), ciValues('all-features')],
    });
    list.push({
      name: `${service} all features + CloudNativePG`,
      release: service,
      namespace: 'shop',
      valuesFiles: [presetValues(service), ciValues('all-features'), ciValues('all-features-cnpg')],
    });
    list.push({
      name: `${service} without preStop sleep`,
      release: service,
      namespace: 'default',
      valuesFiles: [presetValues(service), ciValues('preStop-off')],
    });
  }
  return list;
}

const relative = (file: string) => file.slice(repoRoot.length + 1);

function valuesArgs(combination: Combination): string[] {
  const args = combination.valuesFiles.flatMap((file) => ['-f', file]);
  for (const pair of combination.set ?? []) args.push('--set', pair);
  return args;
}

export interface HelmResult {
  code: number;
  output: string;
}

/** `helm template`; rejects with helm's message on failure. `skipTests` leaves out `helm test` pods. */
export async function helmTemplate(combination: Combination, options: { skipTests?: boolean } = {}) {
  const { helm, env } = await ensureTools();
  const args = ['template', combination.release, chartDir, '--namespace', combination.namespace];
  if (options.skipTests) args.push('--skip-tests');
  const result = await runCommand(helm, [...args, ...valuesArgs(combination)], { env });
  if (result.code !== 0) {
    const files = combination.valuesFiles.map(relative).join(', ');
    throw new Error(`helm template (${combination.name}: ${files}) failed:\n${result.stderr}`);
  }
  return result.stdout;
}

export async function renderObjects(combination: Combination): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate(combination), combination.name);
}

/** `helm lint --strict` with the combination's values; returns helm's exit code and output. */
export async function helmLint(combination: Combination): Promise<HelmResult> {
  const { helm, env } = await ensureTools();
  const args = [
    'lint',
    '--strict',
    chartDir,
    '--namespace',
    combination.namespace,
    ...valuesArgs(combination),
  ];
  const result = await runCommand(helm, args, { env });
  return { code: result.code, output: result.stdout + result.stderr };
}

/** NOTES.txt as `helm install` prints it (client-side dry run: no cluster needed). */
export async function helmNotes(combination: Combination): Promise<string> {
  const { helm, env } = await ensureTools();
  const args = [
    'install',
    combination.release,
    chartDir,
    '--dry-run=client',
    '--namespace',
    combination.namespace,
  ];
  const result = await runCommand(helm, [...args, ...valuesArgs(combination)], {
    env: { ...env, KUBECONFIG: '/nonexistent' },
  });
  if (result.code !== 0)
    throw new Error(`helm install --dry-run (${combination.name}) failed:\n${result.stderr}`);
  const at = result.stdout.indexOf('NOTES:\n');
  if (at < 0) throw new Error(`helm install --dry-run (${combination.name}) printed no NOTES`);
  return result.stdout.slice(at + 'NOTES:\n'.length);
}
