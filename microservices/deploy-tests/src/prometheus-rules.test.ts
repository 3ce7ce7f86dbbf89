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

const pod = 'order-service-5d9c7b8f6-abcde';
const selector = 'job="order-service", namespace="shop"';
const routing = { namespace: 'shop', job: 'order-service' };

/** An input series of the order-service job in namespace shop, with more labels after those two. */
const orderSeries = (metric: string, labels: Record<string, string>, values: string) => ({
  series: `${metric}{${selector}${Object.entries(labels)
    .map(([name, value]) => `, ${name}="${value}"`)
    .join('')}}`,
  values,
});
const postOrders = (status: string, values: string) =>
  orderSeries(
    'http_requests_total',
    { route: '/api/v1/orders', method: 'POST', status_code: status },
    values,
  );

/** How a description shows `$value`: the template placeholder and what promtool renders it as. */
type RenderedValue = { placeholder: string; shown: string };
const percent = (shown: string): RenderedValue => ({
  placeholder: '{{ $value | humanizePercentage }}',
  shown,
});
const twoDecimals = (shown: string): RenderedValue => ({
  placeholder: '{{ $value | printf "%.2f" }}',
  shown,
});

/** `rule` firing once, with the routing labels (namespace, job) Alertmanager needs. */
const fires = (eval_time: string, rule: Rule, value?: RenderedValue) => ({
  eval_time,
  alertname: rule.alert,
  exp_alerts: [
    {
      exp_labels: { ...rule.labels, ...routing },
      exp_annotations: {
        summary: rule.annotations.summary,
        description: value
          ? (rule.annotations.description ?? '').replace(value.placeholder, value.shown)
          : rule.annotations.description,
      },
    },
  ],
});
const silent = (eval_time: string, rule: Rule) => ({ eval_time, alertname: rule.alert, exp_alerts: [] });

/**
 * promtool unit tests: the breaker, 5xx ratio, availability and fault injection alerts, firing and not firing,
 * each with the routing labels (namespace, job) Alertmanager needs.
 */
function unitTests(rule: RuleObject, rulesPath: string) {
  const breaker = alert(rule, 'UserServiceBreakerOpen');
  const errors = alert(rule, 'HighErrorRatio');
  const faults = alert(rule, 'FaultInjectionEnabled');
  const unavailable = alert(rule, 'Unavailable');
  const targetsDown = alert(rule, 'TargetsDown');
  const shed = alert(rule, 'RequestsShed');
  const cut = alert(rule, 'ConnectionsCut');
  const lookups = (outcome: string, values: string) =>
    orderSeries('user_service_requests_total', { pod, outcome }, values);
  const breakerState = (values: string) => orderSeries('user_service_circuit_state', { pod }, values);
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
          silent('5m', breaker),
          fires('10m', breaker, percent('100%')),
          // Recovered and quiet: no refusal for 10 minutes.
          silent('26m', breaker),
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
        alert_rule_test: ['9m', '10m', '11m', '12m'].map((at) => fires(at, breaker, percent('96.77%'))),
      },
      {
        interval: '1m',
        input_series: [postOrders('201', '0+60x20'), postOrders('503', '0+60x20')],
        alert_rule_test: [fires('15m', errors, percent('50%'))],
      },
      {
        // Probes and scrapes answer 200 all day: the 5xx share is that of the API only (here 50%, which
        // /health/* and /metrics diluted to under 3% before).
        interval: '1m',
        input_series: [
          ...['/health/live', '/health/ready', '/metrics'].map((route) =>
            orderSeries('http_requests_total', { route, method: 'GET', status_code: '200' }, '0+100x20'),
          ),
          postOrders('201', '0+6x20'),
          postOrders('500', '0+6x20'),
        ],
        alert_rule_test: [fires('15m', errors, percent('50%'))],
      },
      {
        // A failing /health/ready (a 503 while draining) is no API error.
        interval: '1m',
        input_series: [
          orderSeries(
            'http_requests_total',
            { route: '/health/ready', method: 'GET', status_code: '503' },
            '0+100x20',
          ),
          postOrders('201', '0+6x20'),
        ],
        alert_rule_test: [silent('15m', errors)],
      },
      {
        // Low traffic, retries=0: one lookup a minute, each one the half-open trial (halfOpenMs has passed),
        // failing as connection_error and re-opening the breaker; circuit_open is never recorded.
        interval: '1m',
        input_series: [lookups('connection_error', '0+1x20')],
        alert_rule_test: [silent('1m', breaker), fires('10m', breaker, percent('100%'))],
      },
      {
        // MAX_INFLIGHT_REQUESTS reached: one request a second shed (503) from minute 2 on; the other release
        // shedding does not raise this one's alert.
        interval: '1m',
        input_series: [
          orderSeries('http_requests_shed_total', { pod }, '0 0 0+60x20'),
          orderSeries('http_requests_shed_total', { pod: `${pod}-2` }, '0x22'),
          {
            series: 'http_requests_shed_total{job="user-service", namespace="shop", pod="u-1"}',
            values: '0+60x22',
          },
        ],
        alert_rule_test: [
          // Shedding for 5 minutes minus one: still pending (for: 5m).
          silent('6m', shed),
          fires('12m', shed, twoDecimals('1.00')),
        ],
      },
      {
        // No shedding at all: counters flat at 0.
        interval: '1m',
        input_series: [orderSeries('http_requests_shed_total', { pod }, '0x20')],
        alert_rule_test: [silent('15m', shed)],
      },
      {
        // Connections cut (slow bodies) at 0.1/s from minute 1: a warning after 10 minutes.
        interval: '1m',
        input_series: [
          orderSeries('http_connections_cut_total', { pod, reason: 'slow_body' }, '0 0+6x30'),
          orderSeries('http_connections_cut_total', { pod, reason: 'send_timeout' }, '0x31'),
        ],
        alert_rule_test: [silent('9m', cut), fires('20m', cut, twoDecimals('0.10'))],
      },
      {
        // Every pod gone: the targets (and their `up` series) disappear at minute 3.
        interval: '1m',
        input_series: [orderSeries('up', { pod }, '1 1 1 stale')],
        alert_rule_test: [
          silent('2m', unavailable),
          // Absent for 4 minutes: still pending (for: 5m).
          silent('7m', unavailable),
          fires('10m', unavailable),
        ],
      },
      {
        // One of two pods fails its scrapes for good: some pods down (warning), the service is still up.
        interval: '1m',
        input_series: [
          orderSeries('up', { pod }, '1 1 0x20'),
          orderSeries('up', { pod: `${pod}-2` }, '1x22'),
        ],
        alert_rule_test: [
          silent('10m', targetsDown),
          fires('13m', targetsDown, percent('50%')),
          silent('13m', unavailable),
        ],
      },
      {
        // The pods exist but none answers its scrape.
        interval: '1m',
        input_series: [
          orderSeries('up', { pod }, '1 1 0x20'),
          orderSeries('up', { pod: `${pod}-2` }, '1 1 0x20'),
          { series: 'up{job="user-service", namespace="shop", pod="user-service-1"}', values: '1x22' },
        ],
        alert_rule_test: [fires('8m', unavailable)],
      },
      {
        interval: '1m',
        input_series: [
          // One pod runs with fault injection from minute 2 on; the other never does.
          orderSeries('fault_injection_enabled', { pod }, '0 0 1x20'),
          orderSeries('fault_injection_enabled', { pod: `${pod}-2` }, '0x22'),
          // Another release (user-service) with faults on does not raise order-service's alert.
          {
            series: 'fault_injection_enabled{job="user-service", namespace="shop", pod="user-service-1"}',
            values: '1x22',
          },
        ],
        alert_rule_test: [
          // On for 9 minutes: still pending (for: 10m).
          silent('11m', faults),
          fires('12m', faults),
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
