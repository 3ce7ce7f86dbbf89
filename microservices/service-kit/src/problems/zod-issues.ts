import type { ZodError } from 'zod';
import type { FieldError } from './app-error.js';

/**
 * The most field errors one problem lists. A client fixes the first few; listing every one of 80,000
 * unknown keys turned an 869 KB request into a 3.9 MB answer. The detail says how many more there were.
 */
export const MAX_LISTED_FIELD_ERRORS = 20;
/** Longest path or message echoed in a problem: key names are the caller's and may be huge. */
export const MAX_ECHOED_TEXT = 200;
/** Longest `detail` of a validation problem. */
export const MAX_DETAIL_LENGTH = 1_000;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** A validation problem's field errors: at most MAX_LISTED_FIELD_ERRORS listed, plus how many in all. */
export interface FieldErrorList {
  errors: FieldError[];
  total: number;
}

/**
 * Flattens zod issues into field errors, one per unknown key so clients see every typo by name, listing
 * at most MAX_LISTED_FIELD_ERRORS (and stopping there) with paths and messages clipped.
 */
export function zodIssuesToFieldErrors(error: ZodError, target: string): FieldErrorList {
  const errors: FieldError[] = [];
  let total = 0;
  const add = (path: string, message: string) => {
    total += 1;
    if (errors.length < MAX_LISTED_FIELD_ERRORS) {
      errors.push({ path: clip(path, MAX_ECHOED_TEXT), message: clip(message, MAX_ECHOED_TEXT) });
    }
  };
  for (const issue of error.issues) {
    const base = [target, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      if (errors.length >= MAX_LISTED_FIELD_ERRORS) total += issue.keys.length;
      else for (const key of issue.keys) add(`${base}.${key}`, 'Unknown field');
    } else {
      add(base, issue.message);
    }
  }
  return { errors, total };
}

/** One human-readable sentence for `detail`, which old clients display as-is; at most MAX_DETAIL_LENGTH. */
export function summarizeFieldErrors({ errors, total }: FieldErrorList): string {
  const shown = errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`);
  const more = total > 3 ? ` (and ${total - 3} more)` : '';
  return clip(`Invalid request: ${shown.join('; ')}${more}`, MAX_DETAIL_LENGTH);
}
