import {
  commonEnvShape,
  databaseEnvShape,
  type EnvSource,
  parseEnv,
  portVar,
  refineAuthChoice,
  refineStorageChoice,
} from '@microservices/service-kit';
import { z } from 'zod';

const schema = z
  .object({
    ...commonEnvShape,
    ...databaseEnvShape,
    PORT: portVar(8000),
  })
  .superRefine(refineStorageChoice)
  .superRefine(refineAuthChoice);

export type UserServiceEnv = z.output<typeof schema>;

/** Reads user-service configuration; throws ConfigError naming every bad variable. */
export const parseUserServiceEnv = (source: EnvSource): UserServiceEnv => parseEnv(schema, source);
