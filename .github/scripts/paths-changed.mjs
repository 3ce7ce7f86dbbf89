#!/usr/bin/env node
// Whether a push or pull request touched any of the given paths: the decision a `paths:` filter would make,
// taken inside a workflow that always starts, so its required check always reports (skipped jobs report
// success; a workflow that never starts leaves the check pending forever).
//
//   node .github/scripts/paths-changed.mjs --base <sha> [--head HEAD] --pattern 'helm/**' --pattern …
//
// Prints the matching files and writes `changed=true|false` to $GITHUB_OUTPUT. Patterns are globs: `**` any
// path, `*` within one path segment. With no usable base (a first push, a base outside the history) it says
// `changed=true`: running a job needlessly is safe, skipping it is not.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export function globToRegExp(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += (c ?? '').replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function pathsChanged(root, { base, head = 'HEAD', patterns }) {
  if (patterns.length === 0) throw new Error('give at least one --pattern');
  const git = (args) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let files;
  try {
    if (!base || /^0+$/.test(base)) throw new Error('no base');
    files = git(['diff', '--name-only', `${base}...${head}`])
      .split('\n')
      .filter(Boolean);
  } catch {
    return { changed: true, matching: [], why: `no usable base (${base || 'none'}): treated as changed` };
  }
  const regexps = patterns.map(globToRegExp);
  const matching = files.filter((file) => regexps.some((r) => r.test(file)));
  return {
    changed: matching.length > 0,
    matching,
    why: `${matching.length} of ${files.length} changed files match`,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { values } = parseArgs({
    options: {
      base: { type: 'string', default: '' },
      head: { type: 'string', default: 'HEAD' },
      pattern: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const result = pathsChanged(root, { base: values.base, head: values.head, patterns: values.pattern ?? [] });
  for (const file of result.matching) process.stdout.write(`${file}\n`);
  process.stderr.write(`${result.why}: changed=${result.changed}\n`);
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `changed=${result.changed}\n`);
}
