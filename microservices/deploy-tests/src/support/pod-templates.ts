import type { K8sObject } from './manifests.js';

/**
 * The pods rendered objects create, read the way the checks need them: Deployment and Job templates and bare
 * Pods, their containers, and the environment those containers see.
 */

export type Labels = Record<string, string>;

export interface Probe {
  httpGet?: { path?: string; port?: string | number };
  exec?: unknown;
  tcpSocket?: unknown;
  grpc?: unknown;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{
    topologyKey: string;
    labelSelector?: { matchLabels?: Labels };
  }>;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    seccompProfile?: { type?: string };
  };
  volumes?: Array<{ name: string; emptyDir?: unknown; hostPath?: unknown }>;
}

export interface PodTemplate {
  owner: K8sObject;
  labels: Labels;
  annotations: Labels;
  spec: PodSpec;
}

/** The `spec` of an object, typed as the caller reads it. */
export const specOf = <T>(o: K8sObject): T => (o.spec ?? {}) as T;

export const findObject = (objects: readonly K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

/** Whether a label selector (non-empty) selects `labels`. */
export const matches = (selector: Labels | undefined, labels: Labels) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Every pod an object creates: Deployment and Job templates, and bare Pods (helm test). */
export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'Job') {
      const template = specOf<{
        template: { metadata?: { labels?: Labels; annotations?: Labels }; spec: PodSpec };
      }>(o).template;
      templates.push({
        owner: o,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations ?? {},
        spec: template.spec,
      });
    } else if (o.kind === 'Pod') {
      templates.push({
        owner: o,
        labels: o.metadata.labels ?? {},
        annotations: o.metadata.annotations ?? {},
        spec: specOf<PodSpec>(o),
      });
    }
  }
  return templates;
}

/** Init containers first, as the kubelet runs them. */
export const containersOf = (p: PodTemplate) => [...(p.spec.initContainers ?? []), ...p.spec.containers];

export const deploymentPods = (objects: readonly K8sObject[]) =>
  podTemplates(objects).filter((p) => p.owner.kind === 'Deployment');

/** The environment a container sees from its ConfigMaps and plain `env` values. */
export function containerEnv(objects: readonly K8sObject[], container: Container): Labels {
  const data: Labels = {};
  for (const source of container.envFrom ?? []) {
    const cm = source.configMapRef ? findObject(objects, 'ConfigMap', source.configMapRef.name) : undefined;
    Object.assign(data, (cm?.data ?? {}) as Labels);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) data[e.name] = e.value;
  return data;
}

/** The ports of a Service. */
export const servicePorts = (svc: K8sObject) =>
  specOf<{ ports?: Array<{ name?: string; port: number; targetPort?: string | number }> }>(svc).ports ?? [];
export const serviceSelector = (svc: K8sObject) => specOf<{ selector?: Labels }>(svc).selector;
