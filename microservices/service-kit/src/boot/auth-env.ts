import { z } from 'zod';
import { booleanVar, commaList, intVar } from '../base/env-vars.js';
import {
  ASYMMETRIC_ALGORITHMS,
  type AuthSettings,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_IDP_TIMEOUT_MS,
  DEFAULT_REFETCH_COOLDOWN_SECONDS,
  DEFAULT_USER_ID_CLAIM,
} from '../edge/auth/auth-settings.js';

const issuerUrl = z.url({
  protocol: /^https?$/,
  error: 'must be http(s) issuer URLs, exactly as the tokens name them in iss',
});

/** `<subject>=<scope> <scope>`: a ServiceAccount subject and the scopes its tokens are given. */
const WORKLOAD_ENTRY = /^([^=\s]+)=([^=]+)$/;

/** Bearer-token authentication (edge/auth): every setting, validated at start-up. */
export const authEnvShape = {
  AUTH_ENABLED: booleanVar(false),
  AUTH_ISSUERS: commaList(issuerUrl),
  // Default: the service's own name (user-service, order-service).
  AUTH_AUDIENCE: z.string().min(1).max(256).optional(),
  AUTH_ALGORITHMS: commaList(
    z.enum(ASYMMETRIC_ALGORITHMS, {
      error: `must be among ${ASYMMETRIC_ALGORITHMS.join(', ')} (asymmetric only: none and HS* are never accepted)`,
    }),
  ),
  AUTH_CLOCK_TOLERANCE_SECONDS: intVar(DEFAULT_CLOCK_TOLERANCE_SECONDS, 0, 300),
  AUTH_REQUIRE_AT_JWT: booleanVar(false),
  AUTH_USER_ID_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'must be a claim name')
    .default(DEFAULT_USER_ID_CLAIM),
  AUTH_WORKLOAD_ISSUER: issuerUrl.optional(),
  AUTH_WORKLOAD_SUBJECTS: commaList(
    z.string().regex(WORKLOAD_ENTRY, 'each entry must be <subject>=<scope> [<scope>…]'),
  ),
  AUTH_IDP_TIMEOUT_MS: intVar(DEFAULT_IDP_TIMEOUT_MS, 100, 60_000),
  AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: intVar(DEFAULT_REFETCH_COOLDOWN_SECONDS, 0, 3_600),
};

type AuthEnv = z.output<z.ZodObject<typeof authEnvShape>>;

/** Cross-variable rules of authentication: a service schema's `.superRefine(refineAuthChoice)`. */
export function refineAuthChoice(env: AuthEnv, ctx: z.RefinementCtx): void {
  const issue = (path: keyof AuthEnv, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.AUTH_ENABLED && env.AUTH_ISSUERS.length === 0 && env.AUTH_WORKLOAD_ISSUER === undefined) {
    issue('AUTH_ISSUERS', 'AUTH_ENABLED=true needs AUTH_ISSUERS or AUTH_WORKLOAD_ISSUER');
  }
  if (env.AUTH_WORKLOAD_ISSUER !== undefined && env.AUTH_ISSUERS.includes(env.AUTH_WORKLOAD_ISSUER)) {
    issue(
      'AUTH_WORKLOAD_ISSUER',
      'must not also be in AUTH_ISSUERS: its tokens get scopes only from AUTH_WORKLOAD_SUBJECTS',
    );
  }
  if (env.AUTH_WORKLOAD_SUBJECTS.length > 0 && env.AUTH_WORKLOAD_ISSUER === undefined) {
    issue('AUTH_WORKLOAD_SUBJECTS', 'needs AUTH_WORKLOAD_ISSUER, the issuer of those subjects’ tokens');
  }
}

/** The verifier's settings from the environment, or undefined when AUTH_ENABLED is false. */
export function authSettingsFromEnv(env: AuthEnv, service: string): AuthSettings | undefined {
  if (!env.AUTH_ENABLED) return undefined;
  const subjects = new Map<string, string[]>();
  for (const entry of env.AUTH_WORKLOAD_SUBJECTS) {
    const [, subject = '', scopes = ''] = WORKLOAD_ENTRY.exec(entry) ?? [];
    subjects.set(subject, scopes.split(' ').filter(Boolean));
  }
  return {
    issuers: env.AUTH_ISSUERS,
    audience: env.AUTH_AUDIENCE ?? service,
    algorithms: env.AUTH_ALGORITHMS.length > 0 ? env.AUTH_ALGORITHMS : DEFAULT_ALGORITHMS,
    clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
    requireAccessTokenType: env.AUTH_REQUIRE_AT_JWT,
    userIdClaim: env.AUTH_USER_ID_CLAIM,
    workload: env.AUTH_WORKLOAD_ISSUER ? { issuer: env.AUTH_WORKLOAD_ISSUER, subjects } : undefined,
    idpTimeoutMs: env.AUTH_IDP_TIMEOUT_MS,
    refetchCooldownSeconds: env.AUTH_JWKS_REFETCH_COOLDOWN_SECONDS,
  };
}
