import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The kit's layers in the order a request meets them, lowest first. A file may import its own layer and
 * the ones before it, never one after: what a request's answer is built from never depends on how the
 * process starts. `index.ts` (the public exports), `bin/` (the process entry points) and `testing/` sit
 * above all of them; tests
 * (`*.test.ts`) may import any layer, since they exercise a layer through the app it is part of.
 */
export const LAYERS = ['base', 'problems', 'data', 'edge', 'routes', 'app', 'boot'] as const;

export interface LayerViolation {
  file: string;
  imports: string;
  reason: string;
}

/** Every module specifier in a source text: static imports, re-exports and dynamic imports. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3]) as string);
  return found;
}

const layerOf = (root: string, file: string): number | 'top' => {
  const first = relative(root, file).split(sep)[0] ?? '';
  const index = (LAYERS as readonly string[]).indexOf(first);
  return index < 0 ? 'top' : index;
};

/** The imports in `files` (absolute paths under `root`) that run against LAYERS. */
export function layerViolations(root: string, files: ReadonlyMap<string, string>): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const [file, source] of files) {
    if (file.endsWith('.test.ts')) continue;
    const own = layerOf(root, file);
    const rel = relative(root, file);
    for (const spec of importsOf(source)) {
      if (spec === '@microservices/service-kit' || spec.startsWith('@microservices/service-kit/')) {
        violations.push({ file: rel, imports: spec, reason: 'the kit imports itself by package name' });
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(root + sep)) {
        violations.push({ file: rel, imports: spec, reason: 'reaches outside service-kit/src' });
        continue;
      }
      const theirs = layerOf(root, target);
      if (own === 'top') continue;
      if (theirs === 'top') {
        violations.push({ file: rel, imports: spec, reason: 'a layer imports the public index or testing/' });
      } else if (theirs > own) {
        violations.push({
          file: rel,
          imports: spec,
          reason: `${LAYERS[own]} may not import ${LAYERS[theirs]} (order: ${LAYERS.join(' → ')})`,
        });
      }
    }
  }
  return violations;
}

/** Every `.ts` file under `dir` with its text. */
export function readSources(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') for (const [p, s] of readSources(path)) files.set(p, s);
    } else if (entry.name.endsWith('.ts')) files.set(path, readFileSync(path, 'utf8'));
  }
  return files;
}

export interface AnswerRuleViolation {
  file: string;
  line: number;
  text: string;
}

/**
 * Answers built with Hono's own helpers (`c.json`, `c.body`, `c.text`, `c.html`, `c.newResponse`): each
 * builds a Fetch `Headers` per request and is patched by the edge afterwards (the slow path), where the
 * kit's `reply`/`replyJson`/`replyPage` build one plain record. Test files are not checked; reading a
 * request (`c.req.json()`) is not an answer and does not match.
 */
export function answerRuleViolations(
  root: string,
  files: ReadonlyMap<string, string>,
): AnswerRuleViolation[] {
  const violations: AnswerRuleViolation[] = [];
  // The handlers' context is `c` throughout (Hono's convention); `ctx` and `context` are caught too.
  const pattern = /\b(?:c|ctx|context)\.(?:json|body|text|html|newResponse)\s*\(/;
  for (const [file, source] of files) {
    if (file.endsWith('.test.ts')) continue;
    source.split('\n').forEach((text, index) => {
      if (pattern.test(text))
        violations.push({ file: relative(root, file), line: index + 1, text: text.trim() });
    });
  }
  return violations;
}
