import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is microservices/deploy-tests/src/support/deploy-paths.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const chartDir = join(repoRoot, 'helm', 'microservice');
export const k8sDir = join(repoRoot, 'k8s');
export const workspaceDir = join(repoRoot, 'microservices', 'deploy-tests');
/** Extracted binaries survive between runs here (node_modules is never committed). */
export const toolsCacheDir = join(repoRoot, 'node_modules', '.cache', 'deploy-tests');
/** Generated files that must resolve this workspace's node_modules (the typed-literal check); git-ignored. */
export const scratchDir = join(workspaceDir, '.tmp');
