import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'user-service' | 'order-service';

/** The repository root, found from this file so tests work whatever the working directory. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The bundled entry point `npm run build` writes for a service. */
export const serviceEntry = (name: ServiceName): string =>
  join(repoRoot, 'microservices', name, 'dist', 'main.js');

/** The TypeScript entry a service is built from; absent while a service is still being written. */
export const serviceSource = (name: ServiceName): string =>
  join(repoRoot, 'microservices', name, 'src', 'main.ts');
