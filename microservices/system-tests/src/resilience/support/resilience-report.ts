import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/service-paths.js';

/** Where every resilience test appends its figures, one JSON object a line (gitignored). */
export const REPORT_FILE = join(repoRoot, '.tmp', 'resilience-report.jsonl');

export type Figures = Record<string, number | string | boolean>;

/**
 * Records what a resilience test measured (requests sent, failures, p99s, recovery time): printed in the
 * test output and appended to REPORT_FILE, so a run leaves the table the closing note quotes.
 */
export function reportFigures(group: string, figures: Figures): void {
  const rounded = Object.fromEntries(
    Object.entries(figures).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 100) / 100 : v]),
  );
  process.stdout.write(`[resilience] ${group}: ${JSON.stringify(rounded)}\n`);
  mkdirSync(join(repoRoot, '.tmp'), { recursive: true });
  appendFileSync(REPORT_FILE, `${JSON.stringify({ group, at: new Date().toISOString(), ...rounded })}\n`);
}
