import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { AppError } from '../problems/app-error.js';

/** Whether the client of `c` has gone (its connection destroyed); false outside a Node server. */
export function clientGone(c: Context): boolean {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  return incoming?.destroyed === true || incoming?.socket?.destroyed === true;
}

/**
 * For work nobody will read: throws the `499` problem (logged at info as "client closed request", never
 * a 5xx) when the client has gone, so an abandoned request stops before its expensive part. A client
 * that sent list requests and reset at once had every one read and built: 4 such clients timed the
 * probes out.
 */
export function stopIfClientGone(c: Context): void {
  if (clientGone(c)) {
    throw new AppError({
      type: 'client-closed-request',
      detail: 'The client closed the connection before the answer was built.',
    });
  }
}
