import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { promtool } from "../../test/promtool";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
  options?: { content?: string };
}

const dashboard = JSON.parse(read("selfhost/grafana/dashboards/edge-redirect.json")) as {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? "" })));

/** Metric names documented in docs/metrics.md, plus Prometheus' own `up`. */
function documentedMetrics(): { names: Set<string>; histograms: Set<string> } {
  const doc = read("docs/metrics.md");
  const names = new Set(["up"]);
  const histograms = new Set<string>();
  for (const m of doc.matchAll(/`([a-z][a-zA-Z0-9]*_[a-zA-Z0-9_]+)`/g)) names.add(m[1] ?? "");
  for (const m of doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*histogram\s*\|/gm)) histograms.add(m[1] ?? "");
  return { names, histograms };
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/**
 * Metric names an expression selects: identifiers that are not function calls or keywords,
 * once strings, label matchers, ranges and grouping clauses are removed.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  return [...bare.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1] ?? "")
    .filter((name) => !KEYWORDS.has(name.toLowerCase()));
}

describe("Grafana dashboard edge-redirect.json", () => {
  it("is provisioned with the expected identity", () => {
    expect(dashboard.uid).toBe("edge-redirect");
    expect(dashboard.schemaVersion).toBe(39);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.gridPos, p.title).toBeDefined();
  });

  it("queries only the prometheus datasource", () => {
    for (const p of panels.filter((p) => p.targets?.length)) {
      expect(p.datasource?.uid, p.title).toBe("prometheus");
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe("prometheus");
    }
  });

  it("has the panels the runbook refers to", () => {
    const titles = panels.map((p) => p.title);
    for (const title of [
      "Redirects/s by replica",
      "Redirect latency",
      "Error ratio",
      "Link cache hit ratio",
      "Clicks ingested/s",
      "Queue backlog",
      "Queue lag",
      "Dead-letter queue size",
      "Rate limited (429) per tier",
      "Limiter fail-open per tier",
      "Reconciliation",
      "Targets up",
      "Top links",
    ]) {
      expect(titles).toContain(title);
    }
    // No per-slug metric exists (unbounded labels): the top links panel points at the stats API.
    const topLinks = panels.find((p) => p.title === "Top links");
    expect(topLinks?.type).toBe("text");
    expect(topLinks?.options?.content).toContain("GET /api/v1/stats");
  });

  it("extracts metric names from PromQL", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le) (rate(edge_redirect_duration_seconds_bucket{job="edge"}[$__rate_interval])))',
      ),
    ).toEqual(["edge_redirect_duration_seconds_bucket"]);
    expect(metricNames('sum(up{job=~"a|b"}) / count(up) > 0 and on (instance) nginx_up offset 5m')).toEqual([
      "up",
      "up",
      "nginx_up",
    ]);
  });

  it("references only metrics listed in docs/metrics.md (or up)", () => {
    const { names, histograms } = documentedMetrics();
    expect(names.has("edge_requests_total")).toBe(true);
    expect(histograms.has("edge_redirect_duration_seconds")).toBe(true);
    expect(exprs.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const { panel, expr } of exprs) {
      const found = metricNames(expr);
      expect(found.length, `${panel}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const name of found) {
        const histogram = name.match(/^(.*)_(bucket|sum|count)$/)?.[1];
        if (!names.has(name) && !(histogram && histograms.has(histogram))) unknown.push(`${panel}: ${name}`);
      }
      // The simple prefix regex of the brief, as a second net.
      for (const [name] of expr.matchAll(/\b(?:edge|aggregator)_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, "");
        if (!names.has(name) && !histograms.has(base)) unknown.push(`${panel}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("every expression parses as PromQL (promtool check rules)", () => {
    const dir = mkdtempSync(join(tmpdir(), "dashboard-promql-"));
    try {
      const rules = exprs.map(
        ({ expr }, i) =>
          `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(expr.replaceAll("$__rate_interval", "20s").replaceAll("$__range", "1h"))}`,
      );
      const file = join(dir, "dashboard-exprs.yml");
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
      expect(promtool(["check", "rules", file])).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Grafana provisioning", () => {
  it("datasource has uid prometheus and points at the prometheus service", () => {
    const yml = read("selfhost/grafana/provisioning/datasources/prometheus.yml");
    expect(yml).toMatch(/^\s+uid:\s*prometheus\s*$/m);
    expect(yml).toMatch(/^\s+url:\s*http:\/\/prometheus:9090\s*$/m);
  });

  it("dashboards are loaded from /var/lib/grafana/dashboards", () => {
    const yml = read("selfhost/grafana/provisioning/dashboards/dashboards.yml");
    expect(yml).toMatch(/^\s+type:\s*file\s*$/m);
    expect(yml).toMatch(/^\s+path:\s*\/var\/lib\/grafana\/dashboards\s*$/m);
  });
});
