import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { ResponseHeaderRecord, StandardHeaders } from './envelope.js';

/** Hono environment shared by both services: what middleware puts on the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** Request-scoped child logger carrying `req_id`. */
    logger: Logger;
    /** Makes each answer's own record of the standard headers (chosen once per request, see envelope.ts). */
    standardHeaders: StandardHeaders;
    /** Headers middleware set with `c.header()` before the answer existed; every answer copies them. */
    addedHeaders: ResponseHeaderRecord | undefined;
    /** Set by the not-found handler so metrics label the request `route="unmatched"`. */
    unmatchedRoute: boolean;
    /**
     * Who is calling, once authentication has established it; the rate limit counts per subject when
     * set, per client address otherwise.
     */
    subject: string | undefined;
  };
}

/** A handler typed from its OpenAPI route definition (validated inputs, documented responses). */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
