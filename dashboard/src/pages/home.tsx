import { useEffect, useState } from "preact/hooks";
import { type Api, linkRoute, type Me, messageOf, type ServiceStats } from "../api";

/** The service overview: links, clicks (all time, last 24 h, humans and bots) and the top links. */
export function Home(props: { api: Api; me: Me }) {
  const [stats, setStats] = useState<ServiceStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // The admin token sees the whole service: every owner's links.
    props.api.overview(props.me.admin ? "*" : undefined).then(setStats, (err) => setError(messageOf(err)));
  }, [props.api, props.me.admin]);

  return (
    <main id="main">
      <h1>Overview</h1>
      <p class="muted">
        Signed in as <strong>{props.me.admin ? "the admin token" : props.me.ownerId}</strong>
        {props.me.admin ? ": the figures below are the whole service's, every owner's links" : ""}.
      </p>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {stats ? (
        <>
          <dl class="cards">
            <Card label="Links" value={stats.links} />
            <Card label="Clicks" value={stats.clicks.total} />
            <Card label="Last 24 hours" value={stats.clicks.last24h} />
            <Card label="Humans" value={stats.clicks.humans} />
            <Card label="Bots" value={stats.clicks.bots} />
          </dl>
          <h2>Top links</h2>
          {stats.topLinks.length === 0 ? (
            <p>
              No clicks yet. <a href="#/new">Create a link</a>.
            </p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Slug</th>
                    <th scope="col" class="num">
                      Clicks
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {stats.topLinks.map((l) => (
                    <tr key={`${l.domain}/${l.slug}`}>
                      <td>
                        <a href={`#${linkRoute(l)}`}>{l.domain ? `${l.domain}/${l.slug}` : l.slug}</a>
                      </td>
                      <td class="num">{l.clicks}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : error ? null : (
        <p aria-live="polite">Loading…</p>
      )}
    </main>
  );
}

export const Card = (props: { label: string; value: number | string }) => (
  <div class="card">
    <dt>{props.label}</dt>
    <dd>{typeof props.value === "number" ? props.value.toLocaleString("en") : props.value}</dd>
  </div>
);
