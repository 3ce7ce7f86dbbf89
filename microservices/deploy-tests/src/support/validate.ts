import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, type K8sObject } from './manifests.js';
import { modelFor, VENDORED_SCHEMAS } from './models.js';

const require = createRequire(import.meta.url);

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const classes = new Map<string, Promise<ModelClass>>();
const vendored = new Map<string, ValidateFunction>();
// Upstream CRD schemas carry Kubernetes extensions (x-kubernetes-*) and formats (int32, date-time) Ajv does
// not know: not strict, formats not checked (the API server checks them).
const crdAjv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

function vendoredSchema(file: string): ValidateFunction {
  let validate = vendored.get(file);
  if (!validate) {
    validate = crdAjv.compile(require(`../schemas/${file}`));
    vendored.set(file, validate);
  }
  return validate;
}

async function modelClass(module: string, kind: string): Promise<ModelClass> {
  let pending = classes.get(module);
  if (!pending) {
    pending = import(module).then((exports: Record<string, unknown>) => {
      const found = exports[kind];
      if (typeof found !== 'function') throw new Error(`${module} does not export ${kind}`);
      return found as ModelClass;
    });
    classes.set(module, pending);
  }
  return pending;
}

/**
 * Validates one object against the Kubernetes 1.30+ OpenAPI schema of its kind (kubernetes-models) or the
 * vendored CRD schema. Returns the problems (empty when valid): wrong types, missing required fields, bad
 * enums and formats. Unknown fields are caught by the typed-literal check (typed-literals.ts) and, for
 * CloudNativePG, by the schema itself.
 */
export async function validateObject(object: K8sObject): Promise<string[]> {
  const ref = modelFor(object.apiVersion, object.kind);
  if (ref === null) {
    const file = VENDORED_SCHEMAS[`${object.apiVersion} ${object.kind}`];
    if (!file) return [`${describe(object)}: no schema vendored for ${object.kind}`];
    const validate = vendoredSchema(file);
    if (validate(object)) return [];
    return (validate.errors ?? []).map(
      (e) => `${describe(object)}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  }
  const Model = await modelClass(ref.module, ref.kind);
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${describe(object)}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

export async function validateAll(objects: readonly K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(validateObject))).flat();
}
