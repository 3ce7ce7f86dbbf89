import { readFileSync } from 'node:fs';
import { dashboardFile } from './paths.js';

export interface PanelQuery {
  panel: string;
  expr: string;
}

interface PanelLike {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: PanelLike[];
}

export function readDashboard(): { panels: PanelLike[]; templating?: { list?: Array<{ query?: unknown }> } } {
  return JSON.parse(readFileSync(dashboardFile, 'utf8'));
}

/** Every PromQL expression in the dashboard, with the title of its panel (rows included). */
export function dashboardQueries(): PanelQuery[] {
  const queries: PanelQuery[] = [];
  const walk = (panels: PanelLike[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ panel: panel.title ?? '(untitled)', expr: target.expr });
      }
      walk(panel.panels);
    }
  };
  walk(readDashboard().panels);
  return queries;
}

/** Grafana's variables replaced by values Prometheus accepts, so the expression can be checked as PromQL. */
export function withGrafanaVariablesResolved(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m').replace(/\$\{?\w+\}?/g, '.*');
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** The metric names an expression selects: identifiers that are not functions, keywords, labels or strings. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g)) {
    if (!KEYWORDS.has(match[0].toLowerCase())) names.add(match[0]);
  }
  return [...names];
}

/** Every series name a /metrics exposition can produce: sample names, plus the families its TYPE lines declare. */
export function exposedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type?.[1]) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{\s]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}
