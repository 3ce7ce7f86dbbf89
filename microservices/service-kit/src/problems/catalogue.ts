/**
 * The title of every status a problem can have: the one place they are spelled. A problem's `title` is
 * the status's reason phrase (RFC 9457 §3.1.4: it does not change from occurrence to occurrence); what
 * happened is in its `type` slug and `detail`.
 */
export const PROBLEM_TITLES = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
} as const;

export type ProblemStatus = keyof typeof PROBLEM_TITLES;

/** The title of a problem with `status`; `Error` for a status the catalogue does not list. */
export const titleOf = (status: number): string =>
  (PROBLEM_TITLES as Partial<Record<number, string>>)[status] ?? 'Error';
