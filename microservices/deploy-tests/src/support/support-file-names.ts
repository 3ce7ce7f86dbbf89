import { existsSync, readdirSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/**
 * Test helpers live in folders named `support/` or `testing/` inside a workspace's `src/`. Each file's name
 * is unique across the whole repository, so an import, an editor's quick-open or a stack trace never leaves
 * a reader guessing which `paths.ts` or `report.ts` is meant.
 */

const HELPER_FOLDERS = new Set(['support', 'testing']);
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.tmp', 'coverage']);

/** Every file under a `support/` or `testing/` folder (at any depth) of `microservices/<workspace>/src`, `/`-separated and relative to `root`. */
export function supportFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string, inHelperFolder: boolean) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED_FOLDERS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, inHelperFolder || HELPER_FOLDERS.has(entry.name));
      else if (inHelperFolder && entry.isFile()) files.push(relative(root, path).split(sep).join('/'));
    }
  };
  const workspaces = join(root, 'microservices');
  for (const workspace of readdirSync(workspaces, { withFileTypes: true })) {
    const src = join(workspaces, workspace.name, 'src');
    if (workspace.isDirectory() && existsSync(src)) walk(src, false);
  }
  return files.sort();
}

/** One problem for each file name that more than one of `files` has (empty = every name is unique). */
export function checkUniqueNames(files: readonly string[]): string[] {
  const byName = new Map<string, string[]>();
  for (const file of files) {
    const name = posix.basename(file);
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  return [...byName]
    .filter(([, holders]) => holders.length > 1)
    .map(
      ([name, holders]) =>
        `${name} names ${holders.length} support files: ${holders.join(', ')} (rename all but one)`,
    );
}
