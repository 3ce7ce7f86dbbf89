import { bootService, loadConfigOrExit, openStore, systemClock } from '@microservices/service-kit';
import packageJson from '../package.json' with { type: 'json' };
import { createApp, SERVICE_NAME } from './app.js';
import { parseUserServiceEnv } from './env.js';
import { MemoryUserStore } from './store/memory-user-store.js';
import { PgUserStore } from './store/pg-user-store.js';
import type { UserStore } from './store/user-store.js';

// The only module that reads the environment; everything else receives its parts.
const env = loadConfigOrExit(SERVICE_NAME, () => parseUserServiceEnv(process.env));

await bootService({
  service: SERVICE_NAME,
  env,
  packageVersion: packageJson.version,
  mainUrl: import.meta.url,
  build: async (parts) => {
    const { store, resource } = await openStore<UserStore>({
      env,
      service: SERVICE_NAME,
      mainUrl: import.meta.url,
      logger: parts.logger,
      registry: parts.registry,
      postgres: (db) => new PgUserStore(db),
      memory: (budget) => new MemoryUserStore({ budget }),
    });
    const app = createApp({ ...parts, store, clock: systemClock });
    return { app, resources: [resource] };
  },
});
