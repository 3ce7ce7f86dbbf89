import { OpenAPIHono } from '@hono/zod-openapi';
import { validationFailed } from '../errors/app-error.js';
import { summarizeFieldErrors, zodIssuesToFieldErrors } from '../errors/zod-issues.js';
import type { AppEnv } from '../http/app-env.js';

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
