import { loadConfigOrExit, startService, systemClock } from '@microservices/service-kit';
import packageJson from '../package.json' with { type: 'json' };
import { createApp, SERVICE_NAME } from './app.js';
import { parseUserServiceEnv } from './env.js';
import { MemoryUserStore } from './store/memory-user-store.js';
import { PgUserStore } from './store/pg-user-store.js';
import type { UserStore } from './store/user-store.js';

// The composition root, top to bottom: env → parts → app → serve. The only module that reads the environment.
const env = loadConfigOrExit(SERVICE_NAME, () => parseUserServiceEnv(process.env));

const service = await startService({
  service: SERVICE_NAME,
  env,
  packageVersion: packageJson.version,
  mainUrl: import.meta.url,
});
const { store, resource: storeResource } = await service.openStore<UserStore>({
  postgres: (db) => new PgUserStore(db),
  memory: (budget) => new MemoryUserStore({ budget }),
});

const app = createApp({ ...service.parts, store, clock: systemClock });

await service.serve(app, [storeResource]);
