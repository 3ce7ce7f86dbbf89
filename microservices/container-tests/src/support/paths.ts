import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the build context of both images and the directory of docker-compose.yml. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export const SERVICES = ['user-service', 'order-service'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const serviceDir = (service: ServiceName) => join(repoRoot, 'microservices', service);
/** The one Dockerfile of every service: `--build-arg SERVICE=<service> --build-arg PORT=<port>` picks one. */
export const dockerfilePath = join(repoRoot, 'microservices', 'Dockerfile');
export const composeFile = join(repoRoot, 'docker-compose.yml');
export const composeDir = join(repoRoot, 'microservices', 'compose');
export const composeTestFile = join(composeDir, 'docker-compose.test.yml');
/** The override that turns fault injection on in both services (the resilience demos). */
export const composeFaultsFile = join(composeDir, 'docker-compose.faults.yml');
export const prometheusConfig = join(composeDir, 'prometheus', 'prometheus.yml');
export const postgresInitSql = join(composeDir, 'postgres', 'init-databases.sql');
export const grafanaDir = join(composeDir, 'grafana');
export const dashboardFile = join(grafanaDir, 'dashboards', 'service-pair.json');
/** Gitignored scratch space: the timing report of the last run is written here. */
export const scratchDir = join(repoRoot, 'microservices', 'container-tests', '.tmp');
