import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { scratchDir } from './support/deploy-paths.js';
import { ENVIRONMENTS } from './support/helm.js';
import { clone, type K8sObject } from './support/manifests.js';
import { loadAllEnvironments, renderAllCombinations } from './support/renders.js';
import { optionalTool, runCommand } from './support/tools.js';

const promtool = optionalTool('promtool', 'prometheus');

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}
type RuleObject = K8sObject & { spec: { groups: Array<{ name: string; rules: Rule[] }> } };

let rules: Array<{ origin: string; rule: RuleObject }> = [];

beforeAll(async () => {
  const [rendered, environments] = await Promise.all([renderAllCombinations(), loadAllEnvironments()]);
  const pick = (origin: string, objects: K8sObject[]) =>
    objects.filter((o) => o.kind === 'PrometheusRule').map((rule) => ({ origin, rule: rule as RuleObject }));
  rules = [
    ...rendered.flatMap((r) => pick(r.combination.name, r.objects)),
    ...ENVIRONMENTS.flatMap((env) => pick(`k8s/${env}`, environments[env])),
  ];
});

/** Writes the rule groups of a PrometheusRule as a plain Prometheus rule file. */
async function ruleFile(name: string, rule: RuleObject): Promise<string> {
  const dir = join(scratchDir, 'promtool');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.rules.yaml`);
  await writeFile(file, stringify({ groups: rule.spec.groups }));
  return file;
}

const orderRules = () => {
  const found = rules.find((r) => r.origin === 'order-service all features')?.rule;
  if (!found) throw new Error('no order-service PrometheusRule rendered');
  return found;
};
const alert = (rule: RuleObject, suffix: string) => {
  const found = rule.spec.groups.flatMap((g) => g.rules).find((r) => r.alert.endsWith(suffix));
  if (!found) throw new Error(`no alert *${suffix}`);
  return found;
};

/**
 * promtool unit tests: the breaker, 5xx ratio, availability and fault injection alerts, firing and not firing,
 * each with the routing labels (namespace, job) Alertmanager needs.
 */
function unitTests(rule: RuleObject, rulesPath: string) {
  const breaker = alert(rule, 'UserServiceBreakerOpen');
  const errors = alert(rule, 'HighErrorRatio');
  const faults = alert(rule, 'FaultInjectionEnabled');
  const unavailable = alert(rule, 'Unavailable');
  const shed = alert(rule, 'RequestsShed');
  const cut = alert(rule, 'ConnectionsCut');
  const pod = 'order-service-5d9c7b8f6-abcde';
  const selector = 'job="order-service", namespace="shop"';
  const routing = { namespace: 'shop', job: 'order-service' };
  const lookups = (outcome: string, values: string) => ({
    series: `user_service_requests_total{${selector}, pod="${pod}", outcome="${outcome}"}`,
    values,
  });
  const breakerState = (values: string) => ({
    series: `user_service_circuit_state{${selector}, pod="${pod}"}`,
    values,
  });
  const breakerFiring = [
    {
      exp_labels: { ...breaker.labels, ...routing },
      exp_annotations: {
        summary: breaker.annotations.summary,
        description: (breaker.annotations.description ?? '').replace(
          '{{ $value | humanizePercentage }}',
          '100%',
        ),
      },
    },
  ];
  return {
    rule_files: [rulesPath],
    evaluation_interval: '1m',
    tests: [
      {
        // Outage from minute 5 to 15 (every lookup refused as circuit_open), then nobody orders at all: the
        // breaker stays Open (state 1) because only the next call would move it, yet the alert must clear.
        interval: '1m',
        input_series: [
          lookups('ok', '0+60x5 300x35'),
          lookups('circuit_open', '0x5 0+60x10 600x24'),
          breakerState('0x5 1x35'),
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: breaker.alert, exp_alerts: [] },
          { eval_time: '10m', alertname: breaker.alert, exp_alerts: breakerFiring },
          // Recovered and quiet: no refusal for 10 minutes.
          { eval_time: '26m', alertname: breaker.alert, exp_alerts: [] },
        ],
      },
      {
        // A flapping breaker (open, open, half-open, ...): refusals keep dominating, the alert stays on.
        interval: '1m',
        input_series: [
          lookups('ok', '0x30'),
          lookups('error', '0+1x30'),
          lookups('circuit_open', '0+30x30'),
          breakerState('1 1 2 1 1 2 1 1 2 1 1 2 1 1 2 1 1 2 1 1 2'),
        ],
        alert_rule_test: ['9m', '10m', '11m', '12m'].map((eval_time) => ({
          eval_time,
          alertname: breaker.alert,
          exp_alerts: [
            {
              exp_labels: { ...breaker.labels, ...routing },
              exp_annotations: {
                summary: breaker.annotations.summary,
                description: (breaker.annotations.description ?? '').replace(
                  '{{ $value | humanizePercentage }}',
                  '96.77%',
                ),
              },
            },
          ],
        })),
      },
      {
        interval: '1m',
        input_series: [
          {
            series: `http_requests_total{${selector}, route="/api/v1/orders", method="POST", status_code="201"}`,
            values: '0+60x20',
          },
          {
            series: `http_requests_total{${selector}, route="/api/v1/orders", method="POST", status_code="503"}`,
            values: '0+60x20',
          },
        ],
        alert_rule_test: [
          {
            eval_time: '15m',
            alertname: errors.alert,
            exp_alerts: [
              {
                exp_labels: { ...errors.labels, ...routing },
                exp_annotations: {
                  summary: errors.annotations.summary,
                  description: (errors.annotations.description ?? '').replace(
                    '{{ $value | humanizePercentage }}',
                    '50%',
                  ),
                },
              },
            ],
          },
        ],
      },
      {
        // Probes and scrapes answer 200 all day: the 5xx share is that of the API only (here 50%, which
        // /health/* and /metrics diluted to under 3% before).
        interval: '1m',
        input_series: [
          ...['/health/live', '/health/ready', '/metrics'].map((route) => ({
            series: `http_requests_total{${selector}, route="${route}", method="GET", status_code="200"}`,
            values: '0+100x20',
          })),
          {
            series: `http_requests_total{${selector}, route="/api/v1/orders", method="POST", status_code="201"}`,
            values: '0+6x20',
          },
          {
            series: `http_requests_total{${selector}, route="/api/v1/orders", method="POST", status_code="500"}`,
            values: '0+6x20',
          },
        ],
        alert_rule_test: [
          {
            eval_time: '15m',
            alertname: errors.alert,
            exp_alerts: [
              {
                exp_labels: { ...errors.labels, ...routing },
                exp_annotations: {
                  summary: errors.annotations.summary,
                  description: (errors.annotations.description ?? '').replace(
                    '{{ $value | humanizePercentage }}',
                    '50%',
                  ),
                },
              },
            ],
          },
        ],
      },
      {
        // A failing /health/ready (a 503 while draining) is no API error.
        interval: '1m',
        input_series: [
          {
            series: `http_requests_total{${selector}, route="/health/ready", method="GET", status_code="503"}`,
            values: '0+100x20',
          },
          {
            series: `http_requests_total{${selector}, route="/api/v1/orders", method="POST", status_code="201"}`,
            values: '0+6x20',
          },
        ],
        alert_rule_test: [{ eval_time: '15m', alertname: errors.alert, exp_alerts: [] }],
      },
      {
        // Low traffic, retries=0: one lookup a minute, each one the half-open trial (halfOpenMs has passed),
        // failing as connection_error and re-opening the breaker; circuit_open is never recorded.
        interval: '1m',
        input_series: [lookups('connection_error', '0+1x20')],
        alert_rule_test: [
          { eval_time: '1m', alertname: breaker.alert, exp_alerts: [] },
          { eval_time: '10m', alertname: breaker.alert, exp_alerts: breakerFiring },
        ],
      },
      {
        // MAX_INFLIGHT_REQUESTS reached: one request a second shed (503) from minute 2 on; the other release
        // shedding does not raise this one's alert.
        interval: '1m',
        input_series: [
          { series: `http_requests_shed_total{${selector}, pod="${pod}"}`, values: '0 0 0+60x20' },
          { series: `http_requests_shed_total{${selector}, pod="${pod}-2"}`, values: '0x22' },
          {
            series: 'http_requests_shed_total{job="user-service", namespace="shop", pod="u-1"}',
            values: '0+60x22',
          },
        ],
        alert_rule_test: [
          // Shedding for 5 minutes minus one: still pending (for: 5m).
          { eval_time: '6m', alertname: shed.alert, exp_alerts: [] },
          {
            eval_time: '12m',
            alertname: shed.alert,
            exp_alerts: [
              {
                exp_labels: { ...shed.labels, ...routing },
                exp_annotations: {
                  summary: shed.annotations.summary,
                  description: (shed.annotations.description ?? '').replace(
                    '{{ $value | printf "%.2f" }}',
                    '1.00',
                  ),
                },
              },
            ],
          },
        ],
      },
      {
        // No shedding at all: counters flat at 0.
        interval: '1m',
        input_series: [{ series: `http_requests_shed_total{${selector}, pod="${pod}"}`, values: '0x20' }],
        alert_rule_test: [{ eval_time: '15m', alertname: shed.alert, exp_alerts: [] }],
      },
      {
        // Connections cut (slow bodies) at 0.1/s from minute 1: a warning after 10 minutes.
        interval: '1m',
        input_series: [
          {
            series: `http_connections_cut_total{${selector}, pod="${pod}", reason="slow_body"}`,
            values: '0 0+6x30',
          },
          {
            series: `http_connections_cut_total{${selector}, pod="${pod}", reason="send_timeout"}`,
            values: '0x31',
          },
        ],
        alert_rule_test: [
          { eval_time: '9m', alertname: cut.alert, exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: cut.alert,
            exp_alerts: [
              {
                exp_labels: { ...cut.labels, ...routing },
                exp_annotations: {
                  summary: cut.annotations.summary,
                  description: (cut.annotations.description ?? '').replace(
                    '{{ $value | printf "%.2f" }}',
                    '0.10',
                  ),
                },
              },
            ],
          },
        ],
      },
      {
        // Every pod gone: the targets (and their `up` series) disappear at minute 3.
        interval: '1m',
        input_series: [{ series: `up{${selector}, pod="${pod}"}`, values: '1 1 1 stale' }],
        alert_rule_test: [
          { eval_time: '2m', alertname: unavailable.alert, exp_alerts: [] },
          // Absent for 4 minutes: still pending (for: 5m).
          { eval_time: '7m', alertname: unavailable.alert, exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: unavailable.alert,
            exp_alerts: [
              {
                exp_labels: { ...unavailable.labels, ...routing },
                exp_annotations: {
                  summary: unavailable.annotations.summary,
                  description: unavailable.annotations.description,
                },
              },
            ],
          },
        ],
      },
      {
        // One of two pods fails its scrapes for good: some pods down (warning), the service is still up.
        interval: '1m',
        input_series: [
          { series: `up{${selector}, pod="${pod}"}`, values: '1 1 0x20' },
          { series: `up{${selector}, pod="${pod}-2"}`, values: '1x22' },
        ],
        alert_rule_test: [
          { eval_time: '10m', alertname: alert(rule, 'TargetsDown').alert, exp_alerts: [] },
          {
            eval_time: '13m',
            alertname: alert(rule, 'TargetsDown').alert,
            exp_alerts: [
              {
                exp_labels: { ...alert(rule, 'TargetsDown').labels, ...routing },
                exp_annotations: {
                  summary: alert(rule, 'TargetsDown').annotations.summary,
                  description: (alert(rule, 'TargetsDown').annotations.description ?? '').replace(
                    '{{ $value | humanizePercentage }}',
                    '50%',
                  ),
                },
              },
            ],
          },
          { eval_time: '13m', alertname: unavailable.alert, exp_alerts: [] },
        ],
      },
      {
        // The pods exist but none answers its scrape.
        interval: '1m',
        input_series: [
          { series: `up{${selector}, pod="${pod}"}`, values: '1 1 0x20' },
          { series: `up{${selector}, pod="${pod}-2"}`, values: '1 1 0x20' },
          { series: 'up{job="user-service", namespace="shop", pod="user-service-1"}', values: '1x22' },
        ],
        alert_rule_test: [
          {
            eval_time: '8m',
            alertname: unavailable.alert,
            exp_alerts: [
              {
                exp_labels: { ...unavailable.labels, ...routing },
                exp_annotations: {
                  summary: unavailable.annotations.summary,
                  description: unavailable.annotations.description,
                },
              },
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          // One pod runs with fault injection from minute 2 on; the other never does.
          { series: `fault_injection_enabled{${selector}, pod="${pod}"}`, values: '0 0 1x20' },
          { series: `fault_injection_enabled{${selector}, pod="${pod}-2"}`, values: '0x22' },
          // Another release (user-service) with faults on does not raise order-service's alert.
          {
            series: 'fault_injection_enabled{job="user-service", namespace="shop", pod="user-service-1"}',
            values: '1x22',
          },
        ],
        alert_rule_test: [
          // On for 9 minutes: still pending (for: 10m).
          { eval_time: '11m', alertname: faults.alert, exp_alerts: [] },
          {
            eval_time: '12m',
            alertname: faults.alert,
            exp_alerts: [
              {
                exp_labels: { ...faults.labels, ...routing },
                exp_annotations: {
                  summary: faults.annotations.summary,
                  description: faults.annotations.description,
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe.skipIf(!promtool.available)(
  `alert rules (promtool)${promtool.reason ? `: skipped, ${promtool.reason}` : ''}`,
  () => {
    it('every rendered PrometheusRule passes promtool check rules', async () => {
      expect(rules.length).toBeGreaterThanOrEqual(8);
      for (const [i, { origin, rule }] of rules.entries()) {
        const result = await runCommand('promtool', ['check', 'rules', await ruleFile(`rule-${i}`, rule)]);
        expect(`${origin}: ${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
        expect(result.code).toBe(0);
      }
    });

    it('alerts on high 5xx ratio, p99 latency, an open user-service breaker, no pod up, pods down, restarts and fault injection left on', () => {
      const names = orderRules().spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
      expect(names).toEqual([
        'OrderServiceHighErrorRatio',
        'OrderServiceHighLatencyP99',
        'OrderServiceUserServiceBreakerOpen',
        'OrderServiceRequestsShed',
        'OrderServiceConnectionsCut',
        'OrderServiceUnavailable',
        'OrderServiceTargetsDown',
        'OrderServicePodRestarting',
        'OrderServiceFaultInjectionEnabled',
      ]);
      const faults = alert(orderRules(), 'FaultInjectionEnabled');
      expect(faults.labels).toEqual({ severity: 'warning' });
      expect(alert(orderRules(), 'RequestsShed').labels).toEqual({ severity: 'critical' });
      expect(alert(orderRules(), 'ConnectionsCut').labels).toEqual({ severity: 'warning' });
      expect(alert(orderRules(), 'RequestsShed').expr).toContain(
        'rate(http_requests_shed_total{job="order-service", namespace="shop"}[5m])',
      );
      expect(alert(orderRules(), 'ConnectionsCut').expr).toContain(
        'rate(http_connections_cut_total{job="order-service", namespace="shop"}[5m])',
      );
      expect(faults.annotations.description).toMatch(/never be on in prod/);
    });

    it('every k8s/ environment with alert rules (staging, prod) alerts when fault injection is on', () => {
      const environmentRules = rules.filter((r) => r.origin.startsWith('k8s/'));
      expect(new Set(environmentRules.map((r) => r.origin))).toEqual(new Set(['k8s/staging', 'k8s/prod']));
      for (const { origin, rule } of environmentRules) {
        const app = rule.metadata.name;
        const namespace = rule.metadata.namespace;
        expect(alert(rule, 'FaultInjectionEnabled').expr.trim(), origin).toBe(
          `max by (namespace, job) (fault_injection_enabled{job="${app}", namespace="${namespace}"}) == 1`,
        );
      }
    });

    it('the breaker alert fires on refusals, survives flapping and clears after recovery; 5xx ratio, total outage and fault injection alerts fire when they should, with namespace and job (promtool test rules)', async () => {
      const rulesPath = await ruleFile('order-service', orderRules());
      const testPath = join(scratchDir, 'promtool', 'order-service.test.yaml');
      await writeFile(testPath, stringify(unitTests(orderRules(), rulesPath)));
      const result = await runCommand('promtool', ['test', 'rules', testPath]);
      expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
      expect(result.code).toBe(0);
    });

    it('promtool check rules fails on a broken expression (negative)', async () => {
      const broken = clone(orderRules());
      (broken.spec.groups[0]?.rules[0] as Rule).expr = 'sum(rate(http_requests_total[5m]) >';
      const result = await runCommand('promtool', ['check', 'rules', await ruleFile('broken', broken)]);
      expect(result.code).not.toBe(0);
    });

    it('promtool test rules fails when the alert would fire too early (negative)', async () => {
      const rulesPath = await ruleFile('order-service-early', orderRules());
      const tests = unitTests(orderRules(), rulesPath);
      const first = tests.tests[0]?.alert_rule_test[1];
      if (first) first.eval_time = '5m';
      const testPath = join(scratchDir, 'promtool', 'order-service-early.test.yaml');
      await writeFile(testPath, stringify(tests));
      const result = await runCommand('promtool', ['test', 'rules', testPath]);
      expect(result.code).not.toBe(0);
    });
  },
);
