import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, scratchDir } from './deploy-paths.js';
import { describe, type K8sObject } from './manifests.js';
import { modelFor } from './models.js';
import { runCommand } from './tools.js';

export interface LabelledObject {
  origin: string;
  object: K8sObject;
}

export interface TypeCheckResult {
  /** Objects emitted as typed literals (CloudNativePG Clusters have no interface and are skipped here). */
  checked: number;
  problems: string[];
}

/**
 * The unknown-field check: `.validate()` accepts `livenesProbe` (JSON schemas without
 * additionalProperties:false), TypeScript does not. Every object becomes `export const dN: I<Kind> = {…}`
 * in one generated file, and `tsc --noEmit --strict` reports excess properties (TS2353) and wrong types,
 * mapped back to the object they came from.
 */
export async function typeCheckObjects(
  name: string,
  objects: readonly LabelledObject[],
): Promise<TypeCheckResult> {
  const dir = join(scratchDir, `typed-${name}`);
  await mkdir(dir, { recursive: true });
  const imports = new Map<string, string>();
  const body: string[] = [];
  const owners: Array<{ fromLine: number; label: string }> = [];
  let checked = 0;
  objects.forEach(({ origin, object }, index) => {
    const ref = modelFor(object.apiVersion, object.kind);
    if (!ref) return;
    const alias = `I${ref.kind}_${imports.size}`;
    const known = imports.get(ref.module);
    const typeName = known ?? alias;
    if (!known) imports.set(ref.module, alias);
    owners.push({ fromLine: body.length, label: `${origin}: ${describe(object)}` });
    body.push(...`export const d${index}: ${typeName} = ${JSON.stringify(object, null, 2)};`.split('\n'));
    checked += 1;
  });
  const header = [...imports].map(
    ([module, alias]) => `import type { I${module.split('/').pop()} as ${alias} } from '${module}';`,
  );
  const lines = [...header, '', ...body];
  await writeFile(join(dir, 'objects.ts'), `${lines.join('\n')}\n`);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: true,
        types: [],
      },
      files: ['objects.ts'],
    }),
  );
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
  const result = await runCommand(tsc, ['-p', join(dir, 'tsconfig.json')], { cwd: dir });
  if (result.code === 0) return { checked, problems: [] };
  const offset = header.length + 1;
  const problems = result.stdout
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .map((line) => {
      const lineNo = Number(/\((\d+),\d+\)/.exec(line)?.[1] ?? '0') - 1 - offset;
      const owner = [...owners].reverse().find((o) => o.fromLine <= lineNo);
      return `${owner?.label ?? '?'}: ${line.replace(/^.*?error /, 'error ')}`;
    });
  if (problems.length === 0) problems.push(`tsc failed: ${result.stdout}${result.stderr}`);
  return { checked, problems };
}
