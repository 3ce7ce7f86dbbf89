import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv } from '../../boot/env.js';
import { configErrorOf } from '../../testing/config-error.js';
import { databaseEnvShape, refineStorageChoice } from './database-env.js';

const schema = z.object(databaseEnvShape).superRefine(refineStorageChoice);
const parse = (source: Record<string, string>) => parseEnv(schema, source);

describe('refineStorageChoice: the in-memory store only where no database was asked for', () => {
  it('when nothing is set, then the in-memory store is chosen and DATABASE_REQUIRED defaults to false', () => {
    const env = parse({});
    expect(env.DATABASE_URL).toEqual({ kind: 'memory' });
    expect(env.DATABASE_REQUIRED).toBe(false);
  });

  // A Secret with an empty `uri` reaches the pod as DATABASE_URL="": empty counts as unset.
  it.each([
    [{ DATABASE_REQUIRED: 'true', DATABASE_URL: '' }, 'DATABASE_REQUIRED=true'],
    [{ DATABASE_REQUIRED: 'true', DATABASE_URL: '   ' }, 'DATABASE_REQUIRED=true'],
    [{ DATABASE_REQUIRED: 'true', DATABASE_URL: 'memory://' }, 'DATABASE_REQUIRED=true'],
    [{ DATABASE_REQUIRED: 'true' }, 'DATABASE_REQUIRED=true'],
    [{ DB_SSL_ROOT_CERT: '/etc/postgresql-ca/ca.crt', DATABASE_URL: '' }, 'DB_SSL_ROOT_CERT'],
  ])('when %o, then start-up is refused naming DATABASE_URL and %s', (source, because) => {
    const error = configErrorOf(() => parse(source));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^DATABASE_URL: is empty or memory:\/\//);
    expect(error.problems[0]).toContain(because);
  });

  it('when a database is required and given, then it is used', () => {
    const env = parse({ DATABASE_REQUIRED: 'true', DATABASE_URL: 'postgres://app@db:5432/users' });
    expect(env.DATABASE_URL).toEqual({ kind: 'postgres', url: 'postgres://app@db:5432/users' });
  });

  it('when DATABASE_REQUIRED is not a boolean, then it is named', () => {
    expect(configErrorOf(() => parse({ DATABASE_REQUIRED: 'maybe' })).message).toContain('DATABASE_REQUIRED');
  });
});
