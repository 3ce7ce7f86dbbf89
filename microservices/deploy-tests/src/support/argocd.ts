import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './deploy-paths.js';
import { ENVIRONMENTS, SERVICES } from './helm.js';
import { at, isObject, type K8sObject } from './manifests.js';

export interface GeneratedApp {
  name: string;
  element: Record<string, unknown>;
  spec: {
    project: string;
    source: { repoURL: string; targetRevision: string; path: string };
    destination: { server: string; namespace: string };
    syncPolicy?: {
      automated?: { prune?: boolean; selfHeal?: boolean };
      syncOptions?: string[];
      retry?: { limit?: number; backoff?: { duration?: string; factor?: number; maxDuration?: string } };
    };
  };
  labels: Record<string, string>;
}

type Json = Record<string, unknown>;

/** `{{ .key }}` substitution, the only template syntax the ApplicationSet's fields use. */
function substitute(value: unknown, element: Json): unknown {
  if (typeof value === 'string') {
    const out = value.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, key: string) => {
      if (!(key in element)) throw new Error(`template uses .${key}, which no generator element sets`);
      return String(element[key]);
    });
    if (out.includes('{{')) throw new Error(`unsupported template syntax in ${value}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, element));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, element)]));
  return value;
}

function merge(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return patch;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(base[k], v);
  return out;
}

/** `.flag` or `or .a .b …`: the conditions the templatePatch uses, evaluated against one generator element. */
function condition(expression: string, element: Json): boolean {
  const words = expression.trim().split(/\s+/);
  const value = (word: string) => {
    if (!/^\.\w+$/.test(word)) throw new Error(`unsupported templatePatch condition: ${expression}`);
    const key = word.slice(1);
    if (!(key in element)) throw new Error(`templatePatch uses .${key}, which no generator element sets`);
    return Boolean(element[key]);
  };
  if (words[0] === 'or') return words.slice(1).map(value).some(Boolean);
  if (words.length !== 1) throw new Error(`unsupported templatePatch condition: ${expression}`);
  return value(words[0] as string);
}

/**
 * The templatePatch, rendered the way the ApplicationSet controller renders it (Go template, then YAML merged
 * over the template): `{{- if COND }}` … `{{- end }}` lines, nested, with COND `.flag` or `or .a .b`.
 */
function applyPatch(template: Json, patch: string | undefined, element: Json): Json {
  if (!patch) return template;
  const stack: boolean[] = [];
  const kept: string[] = [];
  for (const line of patch.split('\n')) {
    const open = /^\s*\{\{-? if (.+?) -?\}\}\s*$/.exec(line);
    if (open) {
      stack.push(condition(open[1] as string, element));
      continue;
    }
    if (/^\s*\{\{-? end -?\}\}\s*$/.test(line)) {
      if (stack.pop() === undefined) throw new Error('templatePatch: {{- end }} without {{- if }}');
      continue;
    }
    if (line.includes('{{')) throw new Error(`unsupported templatePatch syntax: ${line.trim()}`);
    if (stack.every(Boolean)) kept.push(line);
  }
  if (stack.length > 0) throw new Error('templatePatch: {{- if }} without {{- end }}');
  const doc: unknown = parse(kept.join('\n'));
  return doc === null || doc === undefined ? template : (merge(template, doc) as Json);
}

/** The Applications an ApplicationSet with a matrix of list generators (or a single list) generates. */
export function expandApplicationSet(appset: K8sObject): GeneratedApp[] {
  const spec = appset.spec as {
    generators: Json[];
    template: Json;
    templatePatch?: string;
    goTemplate?: boolean;
  };
  if (spec.goTemplate !== true) throw new Error('the ApplicationSet must use goTemplate');
  const listOf = (g: Json): Json[] => {
    const list = g.list as { elements?: Json[] } | undefined;
    if (!list?.elements) throw new Error('only list generators are expected');
    return list.elements;
  };
  const elements = spec.generators.flatMap((g) => {
    const matrix = g.matrix as { generators: Json[] } | undefined;
    if (!matrix) return listOf(g);
    const [a, b] = matrix.generators.map(listOf);
    return (a ?? []).flatMap((x) => (b ?? []).map((y) => ({ ...x, ...y })));
  });
  return elements.map((element) => {
    const rendered = substitute(applyPatch(spec.template, spec.templatePatch, element), element) as {
      metadata: { name: string; labels?: Record<string, string> };
      spec: GeneratedApp['spec'];
    };
    return {
      name: rendered.metadata.name,
      element,
      spec: rendered.spec,
      labels: rendered.metadata.labels ?? {},
    };
  });
}

const AUTO_SYNC = new Set(['dev', 'staging']);

/** One Application per service per environment, pointing at a kustomize directory and the env's namespace. */
export function checkApplications(apps: GeneratedApp[], namespaces: Record<string, string>): string[] {
  const problems: string[] = [];
  const names = new Set(apps.map((a) => a.name));
  if (names.size !== apps.length) problems.push('Application names are not unique');
  for (const env of ENVIRONMENTS) {
    for (const service of SERVICES) {
      const app = apps.find((a) => a.element.env === env && a.element.service === service);
      if (!app) {
        problems.push(`no Application for ${service} in ${env}`);
        continue;
      }
      const at = `Application ${app.name}`;
      const { source, destination, syncPolicy } = app.spec;
      if (
        source.path !== `k8s/${env}/${service}` ||
        !existsSync(join(repoRoot, source.path, 'kustomization.yaml'))
      ) {
        problems.push(`${at}: path ${source.path} is not the kustomize directory k8s/${env}/${service}`);
      }
      if (destination.namespace !== namespaces[env]) {
        problems.push(
          `${at}: destination namespace ${destination.namespace}, but k8s/${env} renders into ${namespaces[env]}`,
        );
      }
      const automated = syncPolicy?.automated;
      if (AUTO_SYNC.has(env) && (automated?.prune !== true || automated.selfHeal !== true)) {
        problems.push(`${at}: ${env} must sync automatically with prune and selfHeal`);
      }
      if (!AUTO_SYNC.has(env) && automated)
        problems.push(`${at}: ${env} must only sync when someone presses Sync`);
      if (!syncPolicy?.syncOptions?.includes('CreateNamespace=true'))
        problems.push(`${at}: no CreateNamespace=true`);
      if (!syncPolicy?.retry?.limit || !syncPolicy.retry.backoff?.duration)
        problems.push(`${at}: no retry with backoff`);
    }
  }
  return problems;
}

/** The AppProject allows exactly this repository, the Applications' destinations and every kind they sync. */
export function checkProject(
  project: K8sObject,
  apps: GeneratedApp[],
  synced: readonly K8sObject[],
): string[] {
  const problems: string[] = [];
  const spec = project.spec as {
    sourceRepos?: string[];
    destinations?: Array<{ server?: string; namespace?: string }>;
    namespaceResourceWhitelist?: Array<{ group: string; kind: string }>;
    clusterResourceWhitelist?: Array<{ group: string; kind: string }>;
  };
  const repos = new Set(apps.map((a) => a.spec.source.repoURL));
  if (JSON.stringify(spec.sourceRepos) !== JSON.stringify([...repos])) {
    problems.push(
      `AppProject sourceRepos ${JSON.stringify(spec.sourceRepos)} ≠ the Applications' repository ${[...repos].join()}`,
    );
  }
  for (const app of apps) {
    if (app.spec.project !== project.metadata.name)
      problems.push(`Application ${app.name}: project ${app.spec.project}`);
    const ok = (spec.destinations ?? []).some(
      (d) => d.server === app.spec.destination.server && d.namespace === app.spec.destination.namespace,
    );
    if (!ok)
      problems.push(`AppProject does not allow ${app.name}'s destination ${app.spec.destination.namespace}`);
  }
  const allowed = new Set((spec.namespaceResourceWhitelist ?? []).map((r) => `${r.group}/${r.kind}`));
  for (const kind of new Set(
    synced.filter((o) => o.kind !== 'Namespace').map((o) => `${groupOf(o.apiVersion)}/${o.kind}`),
  )) {
    if (!allowed.has(kind)) problems.push(`AppProject namespaceResourceWhitelist lacks ${kind}`);
  }
  if (!(spec.clusterResourceWhitelist ?? []).some((r) => r.group === '' && r.kind === 'Namespace')) {
    problems.push('AppProject must allow Namespaces (CreateNamespace=true)');
  }
  return problems;
}

const groupOf = (apiVersion: string) =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';

const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');
const hook = (o: K8sObject) => o.metadata.annotations?.['argocd.argoproj.io/hook'];
const component = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/component'];

/**
 * The order inside one Application (its rendered objects): config before pods, the database (or the
 * ExternalSecret writing its Secret) before its migration, migrations before the Deployment, no hook that
 * waits for the other service (it would tie this app's syncs and rollbacks to the other's health), and the
 * PostSync smoke test exactly where the environment asks for it (`smoke`).
 */
export function checkSyncOrder(
  service: string,
  objects: readonly K8sObject[],
  options: { smoke: boolean },
): string[] {
  const problems: string[] = [];
  const deployment = objects.find((o) => o.kind === 'Deployment');
  if (!deployment) return [`${service}: no Deployment`];
  for (const o of objects.filter((x) => x.kind === 'ConfigMap' || x.kind === 'ServiceAccount')) {
    if (wave(o) >= wave(deployment))
      problems.push(`${service}: ${o.kind} must sync in an earlier wave than the Deployment`);
  }
  const migrate = objects.find((o) => o.kind === 'Job' && component(o) === 'migrate');
  const source = objects.find((o) => o.kind === 'Cluster' || o.kind === 'ExternalSecret');
  if (migrate) {
    if (source) {
      if (hook(migrate) !== 'Sync' || !(wave(source) < wave(migrate) && wave(migrate) < wave(deployment))) {
        problems.push(
          `${service}: the migration must be a Sync hook between the ${source.kind} and the Deployment`,
        );
      }
    } else if (hook(migrate) !== 'PreSync') {
      problems.push(`${service}: the migration must be a PreSync hook`);
    }
  } else if (objects.some((o) => o.kind === 'Deployment' && JSON.stringify(o).includes('DATABASE_URL'))) {
    problems.push(`${service}: a database is configured but no migration hook`);
  }
  if (objects.some((o) => o.kind === 'Job' && component(o) === 'wait')) {
    problems.push(
      `${service}: a hook waits for user-service, coupling the two apps (order them by RollingSync)`,
    );
  }
  const smoke = objects.find((o) => o.kind === 'Job' && component(o) === 'smoke-test');
  if (options.smoke && (!smoke || hook(smoke) !== 'PostSync'))
    problems.push(`${service}: no PostSync smoke test`);
  if (!options.smoke && smoke)
    problems.push(`${service}: a smoke test hook where the environment wants none`);
  for (const job of objects.filter((o) => o.kind === 'Job')) {
    if (!hook(job)) problems.push(`${service}: Job ${job.metadata.name} is not an Argo CD hook`);
    if (
      !job.metadata.annotations?.['argocd.argoproj.io/hook-delete-policy']?.includes('BeforeHookCreation')
    ) {
      problems.push(`${service}: hook ${job.metadata.name} lacks hook-delete-policy BeforeHookCreation`);
    }
  }
  return problems;
}

interface RollingStep {
  matchExpressions?: Array<{ key: string; operator: string; values: string[] }>;
}

/** The RollingSync step (0-based) that selects an Application by its labels, or -1 when none does. */
export function rollingStepOf(appset: K8sObject, labels: Record<string, string>): number {
  const steps = (at(appset, 'spec.strategy.rollingSync.steps') ?? []) as RollingStep[];
  return steps.findIndex((step) =>
    (step.matchExpressions ?? []).every((e) => {
      const value = labels[e.key];
      const listed = value !== undefined && e.values.includes(value);
      return e.operator === 'In' ? listed : e.operator === 'NotIn' ? !listed : false;
    }),
  );
}

/**
 * The two apps ordered by Argo CD: a RollingSync strategy syncs user-service before order-service in every
 * environment that syncs on its own, and leaves the manual ones (prod) out of every step.
 */
export function checkAppOrdering(appset: K8sObject, apps: readonly GeneratedApp[]): string[] {
  const problems: string[] = [];
  if (at(appset, 'spec.strategy.type') !== 'RollingSync')
    problems.push('ApplicationSet strategy is not RollingSync');
  const step = (app: GeneratedApp) => rollingStepOf(appset, app.labels);
  // A step waits for every Application it selects: one spanning environments lets a broken staging app hold
  // a dev app back (and the other way round).
  const steps = (at(appset, 'spec.strategy.rollingSync.steps') ?? []) as RollingStep[];
  for (const index of steps.keys()) {
    const envs = new Set(apps.filter((a) => step(a) === index).map((a) => String(a.element.env)));
    if (envs.size > 1) problems.push(`RollingSync step ${index} spans environments ${[...envs].join(', ')}`);
  }
  for (const app of apps) {
    const auto = app.spec.syncPolicy?.automated !== undefined;
    if (!auto && step(app) >= 0)
      problems.push(`${app.name} syncs manually but is in RollingSync step ${step(app)}`);
    if (auto && step(app) < 0) problems.push(`${app.name} is in no RollingSync step`);
    if (!auto || !app.name.startsWith('order-service-')) continue;
    const user = apps.find((a) => a.name === app.name.replace('order-service-', 'user-service-'));
    if (!user || !(step(user) >= 0 && step(user) < step(app)))
      problems.push(`${app.name} is not synced after ${user?.name ?? 'user-service'}`);
  }
  return problems;
}
