/**
 * Where the schema of each rendered kind lives: a `kubernetes-models` module (class with `.validate()` and an
 * `I<Kind>` interface for the typed-literal check) or, for CloudNativePG, a vendored JSON schema.
 */
export interface ModelRef {
  /** Module specifier exporting the class `kind` and the interface `I<kind>`. */
  module: string;
  kind: string;
}

const CORE_GROUPS = new Set(['v1']);
const BUILTIN_GROUPS = new Set([
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
]);
const CRD_PACKAGES: Record<string, string> = {
  'argoproj.io': '@kubernetes-models/argo-cd',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
};

/** The CloudNativePG Cluster has no maintained TypeScript model: it is checked with a strict JSON schema. */
export const CNPG_API_VERSION = 'postgresql.cnpg.io/v1';

/** The model for apiVersion + kind, or null when only a vendored schema covers it (CloudNativePG). */
export function modelFor(apiVersion: string, kind: string): ModelRef | null {
  if (apiVersion === CNPG_API_VERSION) return null;
  if (CORE_GROUPS.has(apiVersion)) return { module: `kubernetes-models/${apiVersion}/${kind}`, kind };
  const [group, version] = apiVersion.split('/');
  if (!group || !version) throw new Error(`unexpected apiVersion ${apiVersion}`);
  if (BUILTIN_GROUPS.has(group)) return { module: `kubernetes-models/${group}/${version}/${kind}`, kind };
  const pkg = CRD_PACKAGES[group];
  if (!pkg) throw new Error(`no schema known for ${apiVersion} ${kind}: add its model or a vendored schema`);
  return { module: `${pkg}/${group}/${version}/${kind}`, kind };
}
