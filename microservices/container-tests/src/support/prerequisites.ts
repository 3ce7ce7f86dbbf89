import { onPath } from './run.js';

/**
 * Tools a test file needs. In CI (CI=true) a missing tool fails the file — a skipped suite must not look
 * green when .ci/run forgot an install step; elsewhere the file is skipped with a loud warning.
 */
export async function missingTools(tools: readonly string[], installHint: string): Promise<string | null> {
  const missing: string[] = [];
  for (const tool of tools) if (!(await onPath(tool))) missing.push(tool);
  if (missing.length === 0) return null;
  return skipOrFail(`missing ${missing.join(', ')} (${installHint})`);
}

/** Throws in CI; otherwise warns loudly and returns the reason, for `describe.skipIf`. */
export function skipOrFail(reason: string): string {
  if (process.env.CI === 'true') throw new Error(`container tests cannot run: ${reason}`);
  console.warn(`\n!!! SKIPPING CONTAINER TESTS !!!\n${reason}\n`);
  return reason;
}
