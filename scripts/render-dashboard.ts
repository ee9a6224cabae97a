/**
 * `npm run dashboard:png`: renders the Grafana dashboard's panels (selfhost/grafana/
 * dashboards/edge-redirect.json) with data from a real run — the self-hosted cluster
 * with Prometheus, under generated traffic — to docs/dashboard.png. Grafana itself is
 * not installable here (no Docker, no Debian package), so this draws the same PromQL
 * of each panel as SVG and takes a headless Chromium screenshot.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "../selfhost/cluster";
import { runLoad } from "../test/load";

type Panel = {
  type: string;
  title?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string }>;
};

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dashboard = JSON.parse(
  readFileSync(join(ROOT, "selfhost/grafana/dashboards/edge-redirect.json"), "utf8"),
) as { panels: Panel[] };
const SECONDS = Number(process.env.DASHBOARD_SECONDS ?? 60);
const COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff7383", "#b877d9", "#ff9830"];

const cluster = await startCluster({ durability: "off-for-tests", prometheus: { scrapeInterval: "1s" } });
try {
  const auth = { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" };
  const slugs = ["launch", "blog", "pricing"];
  for (const slug of slugs) {
    await fetch(`${cluster.lbUrl}/api/v1/links`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ url: `https://example.com/${slug}`, slug }),
    });
  }
  const started = Date.now() / 1000;
  console.log(`generating ${SECONDS}s of traffic…`);
  const loads = [
    runLoad({ url: `${cluster.lbUrl}/launch`, rate: 400, seconds: SECONDS }),
    runLoad({ url: `${cluster.lbUrl}/blog`, rate: 150, seconds: SECONDS }),
    runLoad({ url: `${cluster.lbUrl}/missing-${Date.now()}`, rate: 20, seconds: SECONDS, connections: 2 }),
  ];
  setTimeout(() => cluster.replicas[2]?.kill("SIGKILL"), (SECONDS * 1000) / 2);
  await Promise.all(loads);
  await new Promise((r) => setTimeout(r, 5000));
  const end = Date.now() / 1000;
  const prom = cluster.prometheus?.url as string;

  const query = async (expr: string, range: boolean) => {
    const q = expr.replaceAll("$__rate_interval", "10s");
    const url = range
      ? `${prom}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${started}&end=${end}&step=2`
      : `${prom}/api/v1/query?query=${encodeURIComponent(q)}`;
    const body = (await (
      await fetch(url, { headers: { authorization: cluster.prometheus?.authorization ?? "" } })
    ).json()) as {
      data?: {
        result: Array<{
          metric: Record<string, string>;
          values?: [number, string][];
          value?: [number, string];
        }>;
      };
    };
    return body.data?.result ?? [];
  };

  const cell = 40;
  const html: string[] = [];
  for (const p of dashboard.panels) {
    const { x, y, w, h } = p.gridPos;
    const style = `left:${x * cell}px;top:${y * 30}px;width:${w * cell - 6}px;height:${h * 30 - 6}px`;
    if (p.type === "row") {
      html.push(`<div class="row" style="${style}">${p.title}</div>`);
      continue;
    }
    let inner = "";
    if (p.type === "stat") {
      const results = await query(p.targets?.[0]?.expr ?? "", false);
      const v = results[0]?.value?.[1];
      inner = `<div class="stat">${v === undefined ? "–" : Number(v).toPrecision(3)}</div>`;
    } else if (p.type === "timeseries") {
      const perTarget = await Promise.all((p.targets ?? []).map((t) => query(t.expr, true)));
      // Name single unlabelled series after their query (p50/p95/p99 and the like), as Grafana's legend would.
      const series = perTarget.flatMap((results, i) =>
        results.map((r) =>
          Object.keys(r.metric).length
            ? r
            : { ...r, metric: { query: shortName(p.targets?.[i]?.expr ?? "") } },
        ),
      );
      inner = chart(series, w * cell - 16, h * 30 - 40);
    } else {
      inner = `<div class="note">${p.type === "text" ? "Top links: GET /api/v1/stats" : "(table)"}</div>`;
    }
    html.push(`<div class="panel" style="${style}"><div class="title">${p.title ?? ""}</div>${inner}</div>`);
  }
  const height = Math.max(...dashboard.panels.map((p) => (p.gridPos.y + p.gridPos.h) * 30)) + 10;
  const page = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#111217;font:12px sans-serif;color:#ccccdc}
.panel,.row{position:absolute;box-sizing:border-box}.panel{background:#181b1f;border:1px solid #2c3235;border-radius:2px;padding:4px 6px}
.row{font-size:14px;font-weight:600;padding:6px}.title{font-weight:600;margin-bottom:4px}.stat{font-size:30px;color:#73bf69;text-align:center;margin-top:8px}
.note{color:#8e8e8e;padding:10px}.legend{font-size:10px}</style><div style="position:relative;width:${24 * cell}px;height:${height}px">${html.join("")}</div>`;
  const htmlPath = join(cluster.dir, "dashboard.html");
  writeFileSync(htmlPath, page);
  execFileSync(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      `--window-size=${24 * cell},${Math.min(height, 2000)}`,
      `--screenshot=${join(ROOT, "docs/dashboard.png")}`,
      `file://${htmlPath}`,
    ],
    { stdio: "pipe" },
  );
  console.log("wrote docs/dashboard.png");
} finally {
  await cluster.close();
}

function chart(
  series: Array<{ metric: Record<string, string>; values?: [number, string][] }>,
  width: number,
  height: number,
): string {
  const points = series.map((s) =>
    (s.values ?? []).map(([t, v]) => [t, Number(v)] as const).filter(([, v]) => Number.isFinite(v)),
  );
  const all = points.flat();
  if (all.length === 0) return `<div class="note">No data</div>`;
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const vmax = Math.max(...all.map((p) => p[1]), 1e-9);
  const lines = points.map((pts, i) => {
    const d = pts
      .map(
        ([t, v]) =>
          `${(((t - t0) / Math.max(1, t1 - t0)) * width).toFixed(1)},${(height - (v / vmax) * height).toFixed(1)}`,
      )
      .join(" ");
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${d}"/>`;
  });
  const legend = series
    .map(
      (s, i) =>
        `<span style="color:${COLORS[i % COLORS.length]}">■ ${
          Object.entries(s.metric)
            .filter(([k]) => k !== "__name__" && k !== "job")
            .map(([k, v]) => `${k}=${v}`)
            .join(",") || "value"
        }</span>`,
    )
    .slice(0, 6)
    .join(" ");
  return `<svg width="${width}" height="${height}"><text x="2" y="10" fill="#8e8e8e" font-size="10">${vmax.toPrecision(3)}</text>${lines.join("")}</svg><div class="legend">${legend}</div>`;
}

function shortName(expr: string): string {
  const quantile = /histogram_quantile\(([\d.]+)/.exec(expr);
  if (quantile) return `p${Math.round(Number(quantile[1]) * 100)}`;
  const status = /status=~"(\d)\.\."/.exec(expr);
  return status ? `${status[1]}xx` : expr.slice(0, 40);
}
