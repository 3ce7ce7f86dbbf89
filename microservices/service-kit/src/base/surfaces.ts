/**
 * The surfaces every service answers on, and the one place their paths are spelled. Whatever classifies a
 * path (which headers an answer carries, who refuses a bad request id, which middleware runs, which access
 * lines are debug) asks here.
 * - `api`: the service's business routes, `/api/*`: personal data, rate-limited, bodies read.
 * - `admin`: operator routes, `/admin/*` (fault injection): rate-limited, bodies read.
 * - `probes`: `/health`, `/health/live`, `/health/ready`: the kubelet's; never refused on a header.
 * - `docs`: `/docs` and its assets: the only surface with a CSP that lets a page run.
 * - `service`: `/`, `/version`, `/metrics`, `/openapi.json`: about the service itself.
 */
export type Surface = 'api' | 'admin' | 'probes' | 'docs' | 'service';

export const SURFACES = {
  api: { prefix: '/api/', pattern: '/api/*' },
  admin: { prefix: '/admin/', pattern: '/admin/*' },
  probes: { health: '/health', live: '/health/live', ready: '/health/ready' },
  docs: { page: '/docs', prefix: '/docs/' },
  service: { root: '/', version: '/version', metrics: '/metrics', openapi: '/openapi.json' },
} as const;

/** The probe paths (also their route templates). */
export const PROBE_PATHS: ReadonlySet<string> = new Set(Object.values(SURFACES.probes));

/** Which surface a request path belongs to. Cheap enough for every request: a few prefix tests. */
export function surfaceOf(path: string): Surface {
  if (path.startsWith(SURFACES.api.prefix)) return 'api';
  if (path.startsWith(SURFACES.admin.prefix)) return 'admin';
  if (PROBE_PATHS.has(path)) return 'probes';
  if (path === SURFACES.docs.page || path.startsWith(SURFACES.docs.prefix)) return 'docs';
  return 'service';
}

/** The surfaces whose routes read bodies, are rate-limited and refuse a bad `X-Request-Id`. */
export const isCallerSurface = (surface: Surface): boolean => surface === 'api' || surface === 'admin';

/** Paths answered even while the process sheds load: a shedding pod is alive and must say so. */
const NEVER_SHED: ReadonlySet<string> = new Set([...PROBE_PATHS, SURFACES.service.metrics]);

export const isNeverShed = (path: string): boolean => NEVER_SHED.has(path);
