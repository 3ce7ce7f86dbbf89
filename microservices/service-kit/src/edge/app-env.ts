import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { AuthFailureReason } from './auth/authenticate.js';
import type { Access } from './auth/authorize.js';
import type { Principal } from './auth/principal.js';
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
    /** Who is calling, once authentication has established it (the token's `sub`, for the access line). */
    subject: string | undefined;
    /** Who the request acts for: set by `authenticate` on the API and admin surfaces. */
    principal: Principal | undefined;
    /** What the route's `authorize` granted: everything, or one user's resources. */
    access: Access | undefined;
    /** Counts a refusal in `http_auth_failures_total` (when authentication is on). */
    authFailures: ((reason: AuthFailureReason) => void) | undefined;
  };
}

/** A handler typed from its OpenAPI route definition (validated inputs, documented responses). */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

/** A request's context, as handlers and the kit's helpers see it. */
export type AppContext = Context<AppEnv>;
