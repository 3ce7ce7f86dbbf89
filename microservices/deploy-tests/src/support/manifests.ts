import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as rendered: only the envelope is typed, the rest is checked by the validators. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Parses a multi-document YAML stream; fails on YAML errors and on documents without a kind or name. */
export function parseManifests(text: string, origin: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${origin}: invalid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      throw new Error(`${origin}: a document without apiVersion/kind`);
    }
    const metadata = value.metadata;
    if (!isObject(metadata) || typeof metadata.name !== 'string') {
      throw new Error(`${origin}: ${value.kind} without metadata.name`);
    }
    objects.push(value as K8sObject);
  }
  return objects;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const describe = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** A deep copy to mutate in negative tests. */
export const clone = <T>(value: T): T => structuredClone(value);

export function byKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function one(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as K8sObject;
}

const segments = (path: string) => path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** Reads a dotted path (`spec.template.spec.containers.0.image`) of a document; undefined when absent. */
export function at(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of segments(path)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Sets a dotted path in a document, or deletes it when `value` is undefined: how negative tests break one field. */
export function put(root: unknown, path: string, value: unknown): void {
  const keys = segments(path);
  const last = keys.pop() as string | number;
  const parent = keys.length === 0 ? root : at(root, keys.join('.'));
  if (typeof parent !== 'object' || parent === null) throw new Error(`no ${keys.join('.')} to edit`);
  const record = parent as Record<string | number, unknown>;
  if (value === undefined) delete record[last];
  else record[last] = value;
}
