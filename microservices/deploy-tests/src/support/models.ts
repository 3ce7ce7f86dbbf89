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

/**
 * Kinds without a maintained TypeScript model, checked with their upstream CRD's schema instead (vendored in
 * src/schemas/, every object closed so unknown fields fail): `<apiVersion> <kind>` → schema file.
 */
export const VENDORED_SCHEMAS: Record<string, string> = {
  'postgresql.cnpg.io/v1 Cluster': 'cnpg-cluster-v1.schema.generated.json',
  'postgresql.cnpg.io/v1 ScheduledBackup': 'cnpg-scheduledbackup-v1.schema.generated.json',
  'external-secrets.io/v1 ExternalSecret': 'external-secrets-externalsecret-v1.schema.generated.json',
  'cert-manager.io/v1 Certificate': 'cert-manager-certificate-v1.schema.generated.json',
};
const VENDORED_GROUPS = new Set(Object.keys(VENDORED_SCHEMAS).map((k) => k.split('/')[0]));

/** The model for apiVersion + kind, or null when only a vendored schema covers it (CloudNativePG, ESO, cert-manager). */
export function modelFor(apiVersion: string, kind: string): ModelRef | null {
  if (VENDORED_GROUPS.has(apiVersion.split('/')[0] ?? '')) return null;
  if (CORE_GROUPS.has(apiVersion)) return { module: `kubernetes-models/${apiVersion}/${kind}`, kind };
  const [group, version] = apiVersion.split('/');
  if (!group || !version) throw new Error(`unexpected apiVersion ${apiVersion}`);
  if (BUILTIN_GROUPS.has(group)) return { module: `kubernetes-models/${group}/${version}/${kind}`, kind };
  const pkg = CRD_PACKAGES[group];
  if (!pkg) throw new Error(`no schema known for ${apiVersion} ${kind}: add its model or a vendored schema`);
  return { module: `${pkg}/${group}/${version}/${kind}`, kind };
}
