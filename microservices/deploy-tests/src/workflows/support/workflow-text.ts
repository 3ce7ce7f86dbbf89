/** The text of workflow steps as the checks read it: expressions expanded, shell scripts split into words. */
import { choiceOptions, type Job, matrixValues, type Workflow } from './workflows.js';

interface Context {
  workflow: Workflow;
  job?: Job;
}

/** `${{ matrix.x }}`, `${{ inputs.x }}` and `${{ env.x }}` expanded where their values are known; the rest, and shell variables, become `*`. */
export function expandExpressions(text: string, { workflow, job }: Context): string[] {
  let variants = [text];
  const expression = /\$\{\{\s*([^}]*?)\s*\}\}/;
  for (let guard = 0; guard < 20; guard++) {
    const next: string[] = [];
    let changed = false;
    for (const variant of variants) {
      const match = expression.exec(variant);
      if (!match) {
        next.push(variant);
        continue;
      }
      changed = true;
      const inner = match[1] ?? '';
      const [, scope, key] = /^(matrix|inputs|env)\.([A-Za-z0-9_-]+)$/.exec(inner) ?? [];
      let values: string[] | null = null;
      if (scope === 'matrix' && job && key) values = matrixValues(job, key);
      if (scope === 'inputs' && key) values = choiceOptions(workflow, key);
      if (scope === 'env' && key) {
        const value = job?.env?.[key] ?? workflow.doc.env?.[key];
        values = value === undefined ? null : [String(value)];
      }
      for (const value of values ?? ['*']) next.push(variant.replace(match[0], value));
    }
    variants = next;
    if (!changed) break;
  }
  return variants.map((v) => v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '*'));
}

/** Shell words of each simple command in a script (quotes stripped; `&&`, `;`, `|` split commands). */
export function shellCommands(script: string): string[][] {
  return script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .flatMap((line) => line.split(/&&|\|\||;|\|/))
    .map((command) =>
      (command.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, '')),
    );
}
