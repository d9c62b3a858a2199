import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
// The metric names must be the ones the apps register: read from their own metrics classes.
// A check of deployment files reaching into the apps is the point here, not a dependency
// the module boundaries guard against (no app imports infra).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ControlPlaneMetrics } from '../../apps/control-plane/src/app/metrics/control-plane.metrics';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { WorkerMetrics } from '../../apps/worker/src/metrics/worker-metrics';

/**
 * The alerting rules, their promtool unit tests and the Grafana dashboard, against the real
 * promtool and the metrics the two apps really register: a rule or a panel that names a
 * metric no app exposes (a typo, a rename) fails here rather than staying silent in
 * production, and so does an alert without a test in which it fires, or without its runbook.
 */
const ROOT = resolve(__dirname, '..', '..');
const RULES_DIR = __dirname;
const RULES_FILE = join(RULES_DIR, 'airlock-alerts.yml');
const RULES_TEST_FILE = join(RULES_DIR, 'airlock-alerts.test.yml');
const DASHBOARD_FILE = join(ROOT, 'infra', 'grafana', 'airlock-dashboard.json');
const RUNBOOK_FILE = join(ROOT, 'docs', 'operations', 'alerts.md');

/** Series Prometheus itself makes, which no app registers. */
const PROMETHEUS_SERIES = new Set(['up']);

interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly { readonly expr: string; readonly datasource?: { readonly uid: string } }[];
}

function promtool(args: readonly string[], cwd = RULES_DIR): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool did not run (is Debian's prometheus package installed?): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function alertRules(text = readFileSync(RULES_FILE, 'utf8')): AlertRule[] {
  const document = parse(text) as { groups: { name: string; rules: AlertRule[] }[] };
  return document.groups.flatMap((group) => group.rules);
}

function dashboard(): { schemaVersion: number; templating: { list: Record<string, unknown>[] }; panels: DashboardPanel[] } {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
}

const dashboardExpressions = (): { panel: string; expr: string }[] =>
  dashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** Grafana's variables replaced by what Prometheus would see, so promtool can parse a panel's query. */
const withGrafanaVariablesResolved = (expr: string) => expr.replaceAll('$__rate_interval', '2m').replaceAll('$__range', '6h').replaceAll('$__interval', '1m');

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers,
 * ranges, grouping clauses and numbers are taken out, and functions (a name before a
 * parenthesis) and keywords are skipped.
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const token of stripped.matchAll(/\d[\d.]*(?:e[+-]?\d+)?[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = token[0];
    if (/^\d/.test(word) || PROMQL_KEYWORDS.has(word)) continue;
    const rest = stripped.slice((token.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest)) continue;
    names.add(word);
  }
  return [...names];
}

/** Every series name the apps' registries expose (a histogram's _bucket, _sum and _count included). */
function registeredSeriesNames(): Set<string> {
  const names = new Set<string>(PROMETHEUS_SERIES);
  for (const registry of [new ControlPlaneMetrics({ defaultMetrics: true }).registry, new WorkerMetrics({ defaultMetrics: true }).registry]) {
    for (const metric of registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** The names among `exprs` that no app registers, with where they were found. */
function unknownMetrics(exprs: readonly { where: string; expr: string }[], registered: ReadonlySet<string>): string[] {
  return exprs.flatMap(({ where, expr }) => metricNamesOf(expr).filter((name) => !registered.has(name)).map((name) => `${where}: ${name}`));
}

describe('infra/prometheus/airlock-alerts.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES_FILE]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${alertRules().length} rules found`) });
  });

  it('passes its promtool unit tests (promtool test rules)', () => {
    const { status, output } = promtool(['test', 'rules', RULES_TEST_FILE]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  describe('what promtool refuses (so the checks above can fail)', () => {
    let scratch: string;
    beforeEach(() => {
      scratch = mkdtempSync(join(tmpdir(), 'airlock-rules-spec-'));
    });
    afterEach(() => {
      rmSync(scratch, { recursive: true, force: true });
    });

    it('a rule file with an expression that does not parse', () => {
      const broken = readFileSync(RULES_FILE, 'utf8').replace('expr: up{job="airlock-control-plane"} == 0', 'expr: up{job="airlock-control-plane"} == (0');
      expect(broken).not.toBe(readFileSync(RULES_FILE, 'utf8'));
      writeFileSync(join(scratch, 'broken.yml'), broken);
      const { status, output } = promtool(['check', 'rules', join(scratch, 'broken.yml')]);
      expect(status).not.toBe(0);
      expect(output).toMatch(/parse error|unclosed|unexpected/i);
    });

    it('a rule file with an invalid for duration', () => {
      writeFileSync(join(scratch, 'broken.yml'), readFileSync(RULES_FILE, 'utf8').replace('for: 2m', 'for: two minutes'));
      expect(promtool(['check', 'rules', join(scratch, 'broken.yml')]).status).not.toBe(0);
    });

    it('a unit test whose alert no longer fires as expected', () => {
      // A bound raised past the test's series: the dispatch-latency alert must then stay silent, and its test fail.
      writeFileSync(join(scratch, 'airlock-alerts.yml'), readFileSync(RULES_FILE, 'utf8').replace('rate(airlock_dispatch_latency_seconds_bucket[10m]))) > 30', 'rate(airlock_dispatch_latency_seconds_bucket[10m]))) > 300'));
      writeFileSync(join(scratch, 'airlock-alerts.test.yml'), readFileSync(RULES_TEST_FILE, 'utf8'));
      const { status, output } = promtool(['test', 'rules', 'airlock-alerts.test.yml'], scratch);
      expect(status).not.toBe(0);
      expect(output).toContain('alertname: AirlockDispatchLatencyHigh');
    });
  });

  it('gives every alert a for, a severity, a summary, a description and a runbook section that exists', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const runbook = readFileSync(RUNBOOK_FILE, 'utf8');
    const sections = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((match) => match[1]!.toLowerCase()));
    for (const rule of rules) {
      expect({ alert: rule.alert, for: rule.for, severity: rule.labels?.['severity'] }).toEqual({ alert: rule.alert, for: expect.stringMatching(/^\d+[smh]$/), severity: expect.stringMatching(/^(critical|warning)$/) });
      expect(rule.annotations).toEqual({ summary: expect.any(String), description: expect.any(String), runbook_url: `docs/operations/alerts.md#${rule.alert.toLowerCase()}` });
      expect({ alert: rule.alert, documented: sections.has(rule.alert.toLowerCase()) }).toEqual({ alert: rule.alert, documented: true });
    }
  });

  it('has a unit test in which each alert fires, and a healthy scenario in which none does', () => {
    const tests = (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const firing = new Set(tests.flatMap((test) => test.alert_rule_test.filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname)));
    const healthy = tests.find((test) => test.name.startsWith('a healthy installation'));
    const silentWhenHealthy = new Set(healthy?.alert_rule_test.filter((check) => check.exp_alerts.length === 0).map((check) => check.alertname));
    for (const { alert } of alertRules()) {
      expect({ alert, firesInATest: firing.has(alert), silentWhenHealthy: silentWhenHealthy.has(alert) }).toEqual({ alert, firesInATest: true, silentWhenHealthy: true });
    }
  });

  it('names only metrics the control plane or the worker registers (or up)', () => {
    const registered = registeredSeriesNames();
    // Some of each app's, so that an empty registry cannot pass.
    for (const name of ['airlock_dispatch_latency_seconds_bucket', 'airlock_jobs_queued', 'airlock_worker_sandbox_kills_total', 'process_resident_memory_bytes']) expect(registered).toContain(name);
    const exprs = alertRules().map((rule) => ({ where: rule.alert, expr: rule.expr }));
    expect(exprs.flatMap(({ expr }) => metricNamesOf(expr)).length).toBeGreaterThanOrEqual(exprs.length);
    expect(unknownMetrics(exprs, registered)).toEqual([]);
  });

  it('catches a rule naming a metric no app registers', () => {
    const misspelled = alertRules(readFileSync(RULES_FILE, 'utf8').replace('airlock_lease_expiries_total', 'airlock_lease_expired_total'));
    expect(unknownMetrics(misspelled.map((rule) => ({ where: rule.alert, expr: rule.expr })), registeredSeriesNames())).toEqual(['AirlockLeaseExpiriesRising: airlock_lease_expired_total']);
  });
});

describe('docs/operations/metrics.md', () => {
  it('shows a scrape configuration that promtool check config accepts, with the job names the alerts select', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'operations', 'metrics.md'), 'utf8');
    const config = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).find((block) => block.includes('scrape_configs:'));
    expect(config).toBeDefined();
    const jobs = (parse(config!) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((job) => job.job_name);
    const selected = [...new Set(alertRules().flatMap((rule) => [...rule.expr.matchAll(/job="([^"]+)"/g)].map((match) => match[1]!)))];
    expect(selected.sort()).toEqual([...jobs].sort());
    const scratch = mkdtempSync(join(tmpdir(), 'airlock-scrape-config-spec-'));
    try {
      writeFileSync(join(scratch, 'prometheus.yml'), config!);
      writeFileSync(join(scratch, 'airlock-alerts.yml'), readFileSync(RULES_FILE, 'utf8'));
      const { status, output } = promtool(['check', 'config', join(scratch, 'prometheus.yml')]);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${alertRules().length} rules found`) });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('metricNamesOf', () => {
  it.each([
    ['histogram_quantile(0.99, sum by (le) (rate(airlock_dispatch_latency_seconds_bucket[10m]))) > 30', ['airlock_dispatch_latency_seconds_bucket']],
    ['sum(max by (tenant_id) (airlock_jobs_queued)) > 0 and on () sum(airlock_gateway_connected_workers) == 0', ['airlock_jobs_queued', 'airlock_gateway_connected_workers']],
    ['sum by (code) (increase(airlock_instructions_refused_total{code=~"INSTRUCTION_BAD_SIGNATURE|up"}[10m] offset 5m)) > 1e3', ['airlock_instructions_refused_total']],
    ['up{job="airlock-worker"} == 0', ['up']],
    ['sort_desc(sum by (failure_code) (increase(airlock_jobs_finished_total{status!="SUCCEEDED"}[$__range])))', ['airlock_jobs_finished_total']],
  ])('%s', (expr, names) => {
    expect(metricNamesOf(expr).sort()).toEqual([...names].sort());
  });
});

describe('infra/grafana/airlock-dashboard.json', () => {
  it('is a Grafana dashboard of schema 39 or later with a Prometheus data source variable used by every panel', () => {
    const board = dashboard();
    expect(board.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(board.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const panels = board.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(12);
    for (const panel of panels) {
      expect({ panel: panel.title, datasource: panel.datasource, targets: (panel.targets ?? []).length > 0 }).toEqual({ panel: panel.title, datasource: { type: 'prometheus', uid: '${datasource}' }, targets: true });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
    }
  });

  it('has a panel for each metric family', () => {
    const used = new Set(dashboardExpressions().flatMap(({ expr }) => metricNamesOf(expr)));
    const families = [
      'airlock_dispatch_latency_seconds_bucket',
      'airlock_jobs_queued',
      'airlock_gateway_connected_workers',
      'airlock_lease_expiries_total',
      'airlock_instructions_refused_total',
      'airlock_jobs_finished_total',
      'airlock_gateway_frames_received_total',
      'airlock_worker_phase_duration_seconds_bucket',
      'airlock_worker_frames_sent_total',
      'airlock_worker_sandbox_kills_total',
      'airlock_worker_jobs_finished_total',
      'airlock_worker_instructions_refused_total',
      'airlock_worker_connected',
    ];
    expect(families.filter((family) => !used.has(family))).toEqual([]);
  });

  it("names only metrics the apps register, in queries promtool parses", () => {
    const exprs = dashboardExpressions();
    expect(unknownMetrics(exprs.map(({ panel, expr }) => ({ where: panel, expr })), registeredSeriesNames())).toEqual([]);
    // Each query as a recording rule, so that promtool parses it as Prometheus would.
    const scratch = mkdtempSync(join(tmpdir(), 'airlock-dashboard-spec-'));
    try {
      const rules = { groups: [{ name: 'dashboard', rules: exprs.map(({ expr }, index) => ({ record: `airlock_dashboard:query_${index}`, expr: withGrafanaVariablesResolved(expr) })) }] };
      writeFileSync(join(scratch, 'dashboard-queries.yml'), JSON.stringify(rules));
      const { status, output } = promtool(['check', 'rules', join(scratch, 'dashboard-queries.yml')]);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${exprs.length} rules found`) });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
