import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestIdentityProvider } from '@microservices/service-kit/testing';

/** order-service's ServiceAccount subject, as a cluster's issuer names it. */
const ORDER_SERVICE_SUBJECT = 'system:serviceaccount:bench:order-service';

/** Everything an authenticated pair needs: each service's AUTH_* environment and a staff token for each. */
export interface BenchIdentity {
  userServiceEnv: Record<string, string>;
  orderServiceEnv: Record<string, string>;
  /** `Authorization` headers of staff tokens (full scopes), one per service's audience. */
  userServiceHeaders: Record<string, string>;
  orderServiceHeaders: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Two real providers on loopback, as in production: the organisation's (staff tokens, RS256) and the
 * cluster's ServiceAccount issuer (order-service's projected token, written to a file in `dir`). The
 * services fetch each key set once, at their first token: every measured request verifies a signature
 * with a cached key.
 */
export async function startBenchIdentity(dir: string): Promise<BenchIdentity> {
  const people = await TestIdentityProvider.start('RS256');
  const cluster = await TestIdentityProvider.start('RS256');
  const tokenFile = join(dir, 'order-service-token');
  writeFileSync(tokenFile, await cluster.mint('user-service', { claims: { sub: ORDER_SERVICE_SUBJECT } }));
  const bearer = async (audience: string, scope: string) => ({
    authorization: `Bearer ${await people.mint(audience, { claims: { sub: 'bench-staff', scope } })}`,
  });
  return {
    userServiceEnv: {
      AUTH_ENABLED: 'true',
      AUTH_ISSUERS: people.issuer,
      AUTH_WORKLOAD_ISSUER: cluster.issuer,
      AUTH_WORKLOAD_SUBJECTS: `${ORDER_SERVICE_SUBJECT}=users:read`,
    },
    orderServiceEnv: {
      AUTH_ENABLED: 'true',
      AUTH_ISSUERS: people.issuer,
      USER_SERVICE_TOKEN_FILE: tokenFile,
    },
    userServiceHeaders: await bearer('user-service', 'users:read users:write'),
    orderServiceHeaders: await bearer('order-service', 'orders:read orders:write'),
    async stop() {
      await Promise.all([people.stop(), cluster.stop()]);
    },
  };
}
