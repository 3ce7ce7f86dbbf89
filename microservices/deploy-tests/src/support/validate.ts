import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, type K8sObject } from './manifests.js';
import { CNPG_API_VERSION, modelFor } from './models.js';

const require = createRequire(import.meta.url);

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const classes = new Map<string, Promise<ModelClass>>();
let cnpgValidator: ValidateFunction | undefined;

function cnpgSchema(): ValidateFunction {
  if (!cnpgValidator) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    cnpgValidator = ajv.compile(require('../schemas/cnpg-cluster-v1.schema.json'));
  }
  return cnpgValidator;
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
  if (object.apiVersion === CNPG_API_VERSION) {
    if (object.kind !== 'Cluster') return [`${describe(object)}: no schema vendored for ${object.kind}`];
    const validate = cnpgSchema();
    if (validate(object)) return [];
    return (validate.errors ?? []).map(
      (e) => `${describe(object)}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  }
  const ref = modelFor(object.apiVersion, object.kind);
  if (!ref) return [`${describe(object)}: no schema`];
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
