import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './paths.js';

/**
 * Numbers a run measures (build times, sizes, start-to-ready), printed as one table at the end and kept in
 * .tmp/container-report.json (gitignored) for the record.
 */
export class RunReport {
  readonly #rows: Array<{ key: string; what: string; value: string }> = [];
  readonly #data: Record<string, number | string> = {};

  /** Records one number; the same key again replaces it. */
  add(key: string, what: string, value: number | string, unit = ''): void {
    const row = { key, what, value: `${value}${unit ? ` ${unit}` : ''}` };
    const existing = this.#rows.findIndex((r) => r.key === key);
    if (existing >= 0) this.#rows[existing] = row;
    else this.#rows.push(row);
    this.#data[key] = value;
  }

  print(title: string): void {
    if (this.#rows.length === 0) return;
    const width = Math.max(...this.#rows.map((r) => r.what.length));
    const lines = this.#rows.map((r) => `  ${r.what.padEnd(width)}  ${r.value}`);
    process.stdout.write(`\n${title}\n${lines.join('\n')}\n`);
    mkdirSync(scratchDir, { recursive: true });
    writeFileSync(join(scratchDir, 'container-report.json'), `${JSON.stringify(this.#data, null, 2)}\n`);
  }
}

export const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const seconds = (ms: number) => Math.round(ms / 100) / 10;
