import { useEffect, useState } from "preact/hooks";
import { type Api, type Breakdown, type LinkStats, messageOf } from "../api";
import { Card } from "../pages/home";
import { ClicksChart } from "./chart";

const DAY = 86_400_000;
const dateInput = (d: Date) => d.toISOString().slice(0, 10);

/** Titles of the breakdowns the API has today; one it adds later is shown under its own key. */
const BREAKDOWN_TITLES: Record<string, string> = {
  referrers: "Top referrers",
  countries: "Countries",
  devices: "Devices",
  browsers: "Browsers",
  os: "Operating systems",
  domains: "Domains",
  rules: "Redirect rules",
};

/** What the API's "(none)" (no value recorded) means in each breakdown. */
const NONE_LABELS: Record<string, string> = {
  referrers: "(none: typed or bookmarked)",
  countries: "(unknown)",
  domains: "(the default domain)",
  rules: "(none: the link's own target)",
};

const isBreakdown = (v: unknown): v is Breakdown =>
  Array.isArray(v) && v.every((row) => row && typeof row === "object" && "value" in row && "clicks" in row);

/**
 * A link's clicks: range and hour/day, totals (humans, bots, unique visitors), the time series as a chart
 * and a table, and a table per breakdown.
 */
export function StatsPanel(props: { api: Api; slug: string; domain?: string }) {
  const [from, setFrom] = useState(dateInput(new Date(Date.now() - 6 * DAY)));
  const [to, setTo] = useState(dateInput(new Date()));
  const [interval, setInterval] = useState<"hour" | "day">("day");
  const [stats, setStats] = useState<LinkStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refreshed, setRefreshed] = useState(0);

  useEffect(() => {
    // Whole days in UTC: `to` includes its day.
    const query = new URLSearchParams({
      from: `${from}T00:00:00Z`,
      to: new Date(Date.parse(`${to}T00:00:00Z`) + DAY).toISOString(),
      interval,
    });
    setError(null);
    props.api.stats(props.slug, props.domain, query).then(setStats, (err) => setError(messageOf(err)));
  }, [props.api, props.slug, props.domain, from, to, interval, refreshed]);

  const breakdowns = stats ? Object.entries(stats).filter(([, v]) => isBreakdown(v)) : [];
  const sum = stats?.timeseries.reduce((s, p) => s + p.humans + p.bots, 0) ?? 0;

  return (
    <section class="stats" aria-labelledby="stats-title">
      <h2 id="stats-title">Clicks</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Stats range">
        <div class="field">
          <label for="stats-from">From (UTC)</label>
          <input
            id="stats-from"
            type="date"
            value={from}
            max={to}
            onChange={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="stats-to">To (UTC)</label>
          <input
            id="stats-to"
            type="date"
            value={to}
            min={from}
            onChange={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="stats-interval">Per</label>
          <select
            id="stats-interval"
            value={interval}
            onChange={(e) => setInterval((e.currentTarget as HTMLSelectElement).value as "hour" | "day")}
          >
            <option value="day">Day</option>
            <option value="hour">Hour</option>
          </select>
        </div>
        <button type="button" onClick={() => setRefreshed((n) => n + 1)}>
          Refresh
        </button>
      </form>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {stats ? (
        <>
          <dl class="cards" aria-live="polite">
            <Card label="Clicks" value={stats.totals.clicks} />
            <Card label="Humans" value={stats.totals.humans} />
            <Card label="Bots" value={stats.totals.bots} />
            <Card label="Unique visitors" value={stats.totals.uniqueVisitors} />
          </dl>
          <ClicksChart
            points={stats.timeseries}
            label={`Clicks per ${stats.interval}: ${sum} in this range`}
          />
          <details class="series">
            <summary>Clicks per {stats.interval} as a table</summary>
            <div class="table-wrap">
              <table data-testid="series">
                <thead>
                  <tr>
                    <th scope="col">{stats.interval === "hour" ? "Hour (UTC)" : "Day (UTC)"}</th>
                    <th scope="col" class="num">
                      Humans
                    </th>
                    <th scope="col" class="num">
                      Bots
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {stats.timeseries.map((p) => (
                    <tr key={p.t}>
                      <td>
                        {stats.interval === "hour" ? p.t.slice(0, 16).replace("T", " ") : p.t.slice(0, 10)}
                      </td>
                      <td class="num">{p.humans}</td>
                      <td class="num">{p.bots}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
          <div class="breakdowns">
            {breakdowns.map(([key, rows]) => (
              <BreakdownTable
                key={key}
                title={BREAKDOWN_TITLES[key] ?? key}
                none={NONE_LABELS[key] ?? "(unknown)"}
                rows={rows as Breakdown}
              />
            ))}
          </div>
        </>
      ) : null}
    </section>
  );
}

function BreakdownTable(props: { title: string; none: string; rows: Breakdown }) {
  const max = Math.max(1, ...props.rows.map((r) => r.clicks));
  return (
    <div class="breakdown">
      <h3>{props.title}</h3>
      {props.rows.length === 0 ? (
        <p class="muted">No human clicks in this range.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Value</th>
              <th scope="col" class="num">
                Clicks
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.value}>
                <td>
                  {r.value && r.value !== "(none)" ? r.value : <span class="muted">{props.none}</span>}
                  <meter class="bar" min={0} max={max} value={r.clicks} aria-hidden="true" />
                </td>
                <td class="num">{r.clicks}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
