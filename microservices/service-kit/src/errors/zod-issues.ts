import type { ZodError } from 'zod';
import type { FieldError } from './app-error.js';

/** Flattens zod issues into field errors, one per unknown key so clients see every typo by name. */
export function zodIssuesToFieldErrors(error: ZodError, target: string): FieldError[] {
  const fieldErrors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = [target, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fieldErrors.push({ path: `${base}.${key}`, message: 'Unknown field' });
    } else {
      fieldErrors.push({ path: base, message: issue.message });
    }
  }
  return fieldErrors;
}

/** One human-readable sentence for `detail`, which old clients display as-is. */
export function summarizeFieldErrors(errors: readonly FieldError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`);
  const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : '';
  return `Invalid request: ${shown.join('; ')}${more}`;
}
