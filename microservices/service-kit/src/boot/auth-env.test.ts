import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configErrorOf } from '../testing/config-error.js';
import { authEnvShape, authSettingsFromEnv, refineAuthChoice } from './auth-env.js';
import { parseEnv } from './env.js';

const schema = z.object(authEnvShape).superRefine(refineAuthChoice);
const parse = (source: Record<string, string>) => parseEnv(schema, source);

describe('AUTH_* variables', () => {
  it('when nothing is set, then authentication is off and no verifier settings exist', () => {
    expect(authSettingsFromEnv(parse({}), 'user-service')).toBeUndefined();
  });

  it('when only AUTH_ENABLED and an issuer are set, then the audience is the service’s name and the algorithms RSA and P-256 ECDSA', () => {
    const settings = authSettingsFromEnv(
      parse({ AUTH_ENABLED: 'true', AUTH_ISSUERS: 'https://id.example.com/realms/shop' }),
      'order-service',
    );
    expect(settings).toMatchObject({
      issuers: ['https://id.example.com/realms/shop'],
      audience: 'order-service',
      algorithms: ['RS256', 'PS256', 'ES256'],
      clockToleranceSeconds: 30,
      requireAccessTokenType: false,
      userIdClaim: 'user_id',
      idpTimeoutMs: 2_000,
      refetchCooldownSeconds: 30,
      workload: undefined,
    });
  });

  it('when workload subjects are set, then each subject gets its space-separated scopes from the workload issuer', () => {
    const settings = authSettingsFromEnv(
      parse({
        AUTH_ENABLED: 'true',
        AUTH_WORKLOAD_ISSUER: 'https://kubernetes.default.svc.cluster.local',
        AUTH_WORKLOAD_SUBJECTS:
          'system:serviceaccount:shop:order-service=users:read, system:serviceaccount:ops:audit=users:read orders:read',
      }),
      'user-service',
    );
    expect(settings?.workload?.issuer).toBe('https://kubernetes.default.svc.cluster.local');
    expect([...(settings?.workload?.subjects ?? [])]).toEqual([
      ['system:serviceaccount:shop:order-service', ['users:read']],
      ['system:serviceaccount:ops:audit', ['users:read', 'orders:read']],
    ]);
  });

  it.each([
    ['AUTH_ENABLED without any issuer', { AUTH_ENABLED: 'true' }, 'AUTH_ISSUERS'],
    ['an HMAC algorithm', { AUTH_ALGORITHMS: 'RS256,HS256' }, 'AUTH_ALGORITHMS'],
    ['alg none', { AUTH_ALGORITHMS: 'none' }, 'AUTH_ALGORITHMS'],
    ['an issuer that is not a URL', { AUTH_ISSUERS: 'keycloak' }, 'AUTH_ISSUERS'],
    [
      'the workload issuer also among AUTH_ISSUERS',
      { AUTH_ISSUERS: 'https://k8s.example', AUTH_WORKLOAD_ISSUER: 'https://k8s.example' },
      'AUTH_WORKLOAD_ISSUER',
    ],
    [
      'workload subjects without their issuer',
      { AUTH_WORKLOAD_SUBJECTS: 'a=users:read' },
      'AUTH_WORKLOAD_SUBJECTS',
    ],
    [
      'a workload subject without scopes',
      { AUTH_WORKLOAD_ISSUER: 'https://k8s.example', AUTH_WORKLOAD_SUBJECTS: 'system:serviceaccount:a:b' },
      'AUTH_WORKLOAD_SUBJECTS',
    ],
    [
      'a clock tolerance over 5 minutes',
      { AUTH_CLOCK_TOLERANCE_SECONDS: '301' },
      'AUTH_CLOCK_TOLERANCE_SECONDS',
    ],
  ])('when %s, then start-up fails naming %s', (_, source, variable) => {
    expect(configErrorOf(() => parse(source)).message).toContain(variable);
  });
});
