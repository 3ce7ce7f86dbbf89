/**
 * Every `npm run`/`npx` in a workflow names a script or binary that exists. Returns the problems it found
 * (empty = pass), so a test can show that the real workflows pass and a mutated one fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellCommands } from './workflow-text.js';
import { runScripts, type Workflow } from './workflows.js';

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
}

const readPackage = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** Root scripts and each workspace's, keyed by package name and by directory. */
export function packageScripts(root: string): { root: Set<string>; workspaces: Map<string, Set<string>> } {
  const rootPackage = readPackage(join(root, 'package.json'));
  const workspaces = new Map<string, Set<string>>();
  for (const dir of rootPackage.workspaces ?? []) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = readPackage(file);
    const scripts = new Set(Object.keys(pkg.scripts ?? {}));
    workspaces.set(dir, scripts);
    if (pkg.name) workspaces.set(pkg.name, scripts);
  }
  return { root: new Set(Object.keys(rootPackage.scripts ?? {})), workspaces };
}

const VALUE_FLAGS = new Set(['-w', '--workspace', '--prefix', '-C']);

/**
 * `npm run X` / `npm test` / `npm start` name a script of the root or of the workspaces given with -w;
 * `npx` runs only an installed binary (`--no-install`, present in node_modules/.bin).
 */
export function checkNpmScripts(workflow: Workflow, root: string): string[] {
  const problems: string[] = [];
  const scripts = packageScripts(root);
  for (const { where, script } of runScripts(workflow)) {
    for (const words of shellCommands(script)) {
      const at = words.findIndex((w) => w === 'npm' || w === 'npx');
      if (at < 0) continue;
      const args = words.slice(at + 1);
      if (words[at] === 'npx') {
        const binary = args.find((w) => !w.startsWith('-'));
        if (!args.includes('--no-install'))
          problems.push(`${where}: npx without --no-install may download ${binary}`);
        if (binary && !existsSync(join(root, 'node_modules', '.bin', binary))) {
          problems.push(`${where}: npx ${binary}: no such binary in node_modules/.bin (not a dependency)`);
        }
        continue;
      }
      const positional: string[] = [];
      const workspaces: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const word = args[i] ?? '';
        if (word === '--') break;
        if (VALUE_FLAGS.has(word)) {
          if (word === '-w' || word === '--workspace') workspaces.push(args[i + 1] ?? '');
          i++;
        } else if (word.startsWith('--workspace=')) workspaces.push(word.slice('--workspace='.length));
        else if (!word.startsWith('-')) positional.push(word);
      }
      const [command, name] = positional;
      const scriptName =
        command === 'run' || command === 'run-script'
          ? name
          : command === 'test' || command === 't' || command === 'start'
            ? command === 't'
              ? 'test'
              : command
            : undefined;
      if (!scriptName) continue;
      if (workspaces.length === 0 && !scripts.root.has(scriptName)) {
        problems.push(`${where}: npm run ${scriptName}: no such script in package.json`);
      }
      for (const workspace of workspaces) {
        const available = scripts.workspaces.get(workspace.replace(/\/$/, ''));
        if (!available) problems.push(`${where}: workspace ${workspace} does not exist`);
        else if (!available.has(scriptName))
          problems.push(`${where}: workspace ${workspace} has no script ${scriptName}`);
      }
    }
  }
  return problems;
}
