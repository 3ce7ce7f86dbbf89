// The observability profile's files, checked without an engine: Prometheus's scrape config (promtool),
// Grafana's provisioning and dashboard, every dashboard query as PromQL (promtool), and every metric the
// dashboard names against what the services really export (a live /metrics scrape of the built services,
// run as plain processes on 127.0.0.1 against a throwaway PostgreSQL).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseOrderServiceEnv } from '../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../user-service/src/env.js';
import {
  dashboardQueries,
  exposedMetricNames,
  metricNamesIn,
  readDashboard,
  withGrafanaVariablesResolved,
} from './support/dashboard.js';
import { type HostPostgres, postgresBinaries, startHostPostgres } from './support/host-postgres.js';
import { buildServices, type HostService, startHostService } from './support/host-services.js';
import { exerciseSeedRequests, request } from './support/http.js';
import { composeFile, grafanaDir, prometheusConfig, SERVICES } from './support/paths.js';
import { missingTools, skipOrFail } from './support/prerequisites.js';
import { run } from './support/run.js';

const skipReason = await missingTools(['promtool'], 'apt-get install -y prometheus; .ci/run does this');

/**
 * Dashboard metrics the services may not export yet. The DB metrics come with the PostgreSQL store, which is
 * being added: a service exports them once it runs on PostgreSQL. They may be missing from the scrape ONLY
 * while the services export no db_* metric at all; as soon as one does, every name here must be present.
 * Delete this list once persistence has landed.
 */
const NOT_YET_EXPORTED = new Set(['db_query_duration_seconds_bucket', 'db_pool_connections']);

const compose = parse(readFileSync(composeFile, 'utf8')) as {
  services: Record<string, { ports?: string[]; volumes?: string[] }>;
};

describe.skipIf(skipReason !== null)('Prometheus scrape config', () => {
  it('passes `promtool check config`', async () => {
    const res = await run('promtool', ['check', 'config', prometheusConfig], { timeoutMs: 30_000 });
    expect(res.stdout + res.stderr).toContain('SUCCESS');
  });

  it('scrapes both services by compose service name on their real ports, one job per service', () => {
    const config = parse(readFileSync(prometheusConfig, 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        metrics_path?: string;
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    const ports = {
      'user-service': parseUserServiceEnv({}).PORT,
      'order-service': parseOrderServiceEnv({}).PORT,
    };
    for (const service of SERVICES) {
      const job = config.scrape_configs.find((j) => j.job_name === service);
      expect(
        job?.static_configs.flatMap((s) => s.targets),
        service,
      ).toEqual([`${service}:${ports[service]}`]);
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    }
    const mounted = compose.services.prometheus?.volumes?.find((v) => v.includes('prometheus.yml'));
    expect(mounted).toBe(
      './microservices/compose/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });
});

describe('Grafana provisioning and dashboard', () => {
  const datasources = parse(
    readFileSync(join(grafanaDir, 'provisioning/datasources/prometheus.yml'), 'utf8'),
  ) as {
    datasources: Array<{ uid: string; type: string; url: string; isDefault?: boolean }>;
  };
  const providers = parse(
    readFileSync(join(grafanaDir, 'provisioning/dashboards/service-pair.yml'), 'utf8'),
  ) as {
    providers: Array<{ options: { path: string } }>;
  };

  it('provisions the Prometheus datasource at the compose service address', () => {
    const [datasource] = datasources.datasources;
    expect(datasource).toMatchObject({ type: 'prometheus', isDefault: true });
    const prometheusPort = compose.services.prometheus?.ports?.[0]?.split(':').at(-1);
    expect(datasource?.url).toBe(`http://prometheus:${prometheusPort}`);
  });

  it('loads dashboards from the folder compose mounts', () => {
    const mount = compose.services.grafana?.volumes?.find((v) =>
      v.startsWith('./microservices/compose/grafana/dashboards:'),
    );
    expect(mount?.split(':')[1]).toBe(providers.providers[0]?.options.path);
  });

  it('the dashboard parses, uses the provisioned datasource everywhere, and has unique panel ids', () => {
    const dashboard = readDashboard() as unknown as {
      uid: string;
      panels: Array<{
        id: number;
        type: string;
        datasource?: { uid: string };
        targets?: Array<{ datasource?: { uid: string } }>;
      }>;
    };
    expect(dashboard.uid).toBe('service-pair');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const uid = datasources.datasources[0]?.uid;
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, `panel ${panel.id}`).toBe(uid);
      expect(panel.targets?.length, `panel ${panel.id}`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(uid);
    }
  });

  it('covers request rate, error ratio, p50/p99 per route, user-service calls, the breaker and DB latency', () => {
    const exprs = dashboardQueries().map((q) => q.expr);
    const some = (pattern: RegExp) => exprs.some((e) => pattern.test(e));
    expect(some(/rate\(http_requests_total\{[^}]*\}\[\$__rate_interval\]\)/)).toBe(true);
    expect(some(/status_code=~"5\.\."[\s\S]*\/[\s\S]*http_requests_total/)).toBe(true);
    expect(
      some(
        /histogram_quantile\(0\.5, sum by \([^)]*route[^)]*\) \(rate\(http_request_duration_seconds_bucket/,
      ),
    ).toBe(true);
    expect(
      some(
        /histogram_quantile\(0\.99, sum by \([^)]*route[^)]*\) \(rate\(http_request_duration_seconds_bucket/,
      ),
    ).toBe(true);
    expect(some(/sum by \(outcome\) \(rate\(user_service_requests_total/)).toBe(true);
    expect(some(/user_service_circuit_state/)).toBe(true);
    expect(some(/histogram_quantile\(0\.99, [\s\S]*db_query_duration_seconds_bucket/)).toBe(true);
  });

  it.skipIf(skipReason !== null)(
    'every query is valid PromQL (`promtool check rules`, Grafana variables resolved)',
    async () => {
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThan(10);
      const dir = mkdtempSync(join(tmpdir(), 'pair-dashboard-rules-'));
      try {
        const file = join(dir, 'dashboard-queries.yml');
        const rules = queries.map((q, i) => ({
          record: `dashboard:query_${i}`,
          expr: withGrafanaVariablesResolved(q.expr),
        }));
        writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
        const res = await run('promtool', ['check', 'rules', file], {
          timeoutMs: 30_000,
          allowFailure: true,
        });
        expect(res.code, res.stdout + res.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('dashboard metrics against a live scrape of both services', () => {
  let pg: HostPostgres | null = null;
  const services: HostService[] = [];
  let expositions: string[] = [];

  beforeAll(async () => {
    await buildServices();
    // With PostgreSQL the services export their DB metrics too; without the binaries, the memory store.
    if (postgresBinaries()) pg = await startHostPostgres();
    else skipOrFail('no PostgreSQL binaries: scraping services on the in-memory store');
    const db = (role: string, database: string) =>
      pg ? { DATABASE_URL: `postgres://${role}:${role}@127.0.0.1:${pg.port}/${database}` } : {};
    const user = await startHostService('user-service', { ...db('user_service', 'users') });
    services.push(user);
    const order = await startHostService('order-service', {
      ...db('order_service', 'orders'),
      USER_SERVICE_URL: user.url,
    });
    services.push(order);
    // Traffic first, so labelled series (orders_created_total{status}, user_service_requests_total{outcome}) exist.
    await exerciseSeedRequests(user.url, order.url);
    expositions = await Promise.all(
      services.map(async (s) => (await request('GET', `${s.url}/metrics`)).text),
    );
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await pg?.stop();
  });

  it('every metric a dashboard query selects is exported by the services', () => {
    const exported = new Set(expositions.flatMap((e) => [...exposedMetricNames(e)]));
    const exportsDbMetrics = [...exported].some((name) => name.startsWith('db_'));
    const missing = dashboardQueries()
      .flatMap((q) => metricNamesIn(q.expr).map((name) => ({ name, panel: q.panel })))
      .filter(({ name }) => !exported.has(name))
      .filter(({ name }) => exportsDbMetrics || !NOT_YET_EXPORTED.has(name));
    expect(missing).toEqual([]);
  });

  it('the metric-name extraction sees through functions, labels, ranges and grouping', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (job, route, le) (rate(http_request_duration_seconds_bucket{job=~"$job", route!="x"}[$__rate_interval]))) / on (job) group_left max(up) > bool 1e-9',
      ).sort(),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });
});
