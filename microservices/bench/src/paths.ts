import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(benchDir, '../..');
export const resultsDir = join(benchDir, 'results');

export type ServiceName = 'user-service' | 'order-service';

/** The bundled entry point an image runs (`node dist/main.js`). */
export const serviceEntry = (name: ServiceName) => join(repoRoot, 'microservices', name, 'dist', 'main.js');
