import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../edge/app-env.js';
import { validationFailed } from '../../problems/app-error.js';
import { summarizeFieldErrors, zodIssuesToFieldErrors } from '../../problems/zod-issues.js';

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query',
  header: 'header',
};

/**
 * An OpenAPIHono whose failed request validation becomes a 400 problem with one `errors[]` entry per
 * bad field. Without this hook the library answers with the raw zod error, which clients cannot use.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const list = zodIssuesToFieldErrors(result.error, TARGET_NAMES[result.target] ?? result.target);
        throw validationFailed(list.errors, summarizeFieldErrors(list));
      }
    },
  });
}
