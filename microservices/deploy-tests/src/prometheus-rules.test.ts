import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ENVIRONMENTS } from './support/helm.js';
import { clone, type K8sObject } from './support/manifests.js';
import { scratchDir } from './support/paths.js';
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

/** promtool unit tests: the breaker-open, 5xx ratio and fault injection alerts, firing and not firing. */
function unitTests(rule: RuleObject, rulesPath: string) {
  const breaker = alert(rule, 'UserServiceBreakerOpen');
  const errors = alert(rule, 'HighErrorRatio');
  const faults = alert(rule, 'FaultInjectionEnabled');
  const pod = 'order-service-5d9c7b8f6-abcde';
  const selector = 'job="order-service", namespace="shop"';
  return {
    rule_files: [rulesPath],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          // Closed for 2 minutes, then open (1) for good.
          { series: `user_service_circuit_state{${selector}, pod="${pod}"}`, values: '0 0 1 1 1 1 1 1' },
          // Another pod whose breaker only blips open for one scrape: never alerts (for: 1m).
          { series: `user_service_circuit_state{${selector}, pod="${pod}-2"}`, values: '0 0 1 0 0 0 0 0' },
        ],
        alert_rule_test: [
          { eval_time: '2m', alertname: breaker.alert, exp_alerts: [] },
          {
            eval_time: '4m',
            alertname: breaker.alert,
            exp_alerts: [
              {
                exp_labels: { ...breaker.labels, pod },
                exp_annotations: {
                  summary: breaker.annotations.summary,
                  description: (breaker.annotations.description ?? '').replace('{{ $labels.pod }}', pod),
                },
              },
            ],
          },
        ],
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
                exp_labels: errors.labels,
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
                exp_labels: faults.labels,
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

    it('alerts on high 5xx ratio, p99 latency, an open user-service breaker, restarts and fault injection left on', () => {
      const names = orderRules().spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
      expect(names).toEqual([
        'OrderServiceHighErrorRatio',
        'OrderServiceHighLatencyP99',
        'OrderServiceUserServiceBreakerOpen',
        'OrderServicePodRestarting',
        'OrderServiceFaultInjectionEnabled',
      ]);
      const faults = alert(orderRules(), 'FaultInjectionEnabled');
      expect(faults.labels).toEqual({ severity: 'warning' });
      expect(faults.annotations.description).toMatch(/never be on in prod/);
    });

    it('every k8s/ environment with alert rules (staging, prod) alerts when fault injection is on', () => {
      const environmentRules = rules.filter((r) => r.origin.startsWith('k8s/'));
      expect(new Set(environmentRules.map((r) => r.origin))).toEqual(new Set(['k8s/staging', 'k8s/prod']));
      for (const { origin, rule } of environmentRules) {
        const app = rule.metadata.name;
        const namespace = rule.metadata.namespace;
        expect(alert(rule, 'FaultInjectionEnabled').expr.trim(), origin).toBe(
          `max(fault_injection_enabled{job="${app}", namespace="${namespace}"}) == 1`,
        );
      }
    });

    it('the breaker-open, 5xx-ratio and fault injection alerts fire when they should and not before (promtool test rules)', async () => {
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
      if (first) first.eval_time = '2m';
      const testPath = join(scratchDir, 'promtool', 'order-service-early.test.yaml');
      await writeFile(testPath, stringify(tests));
      const result = await runCommand('promtool', ['test', 'rules', testPath]);
      expect(result.code).not.toBe(0);
    });
  },
);
