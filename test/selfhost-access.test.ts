import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "../selfhost/cluster";
import { eventually } from "./stack";
import { handshake } from "./ws-handshake";

/**
 * Who can reach what in the Docker-free runner's topology (docs/security.md): one replica
 * behind nginx, and every internal service the runner starts, called as an outsider would.
 */
let cluster: Cluster;
let db: pg.Pool;

beforeAll(async () => {
  // The shipped strict limit (10 per second per client) is the one under test.
  cluster = await startCluster({ replicas: 1, durability: "off-for-tests" });
  db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 1 });
}, 120_000);
afterAll(async () => {
  await db?.end();
  await cluster?.close();
}, 60_000);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const noToken = {};
const wrongToken = bearer("wrong-token");

/** Statuses of the same request made without a token, with a wrong one, and with `right`. */
async function statuses(url: string, right: Record<string, string>, init: RequestInit = {}) {
  const status = async (headers: Record<string, string>) =>
    (await fetch(url, { ...init, headers: { ...(init.headers as object), ...headers } })).status;
  return [await status(noToken), await status(wrongToken), await status(right)];
}

/** Waits for the start of a one-second window, so a burst is counted in a single window. */
const atWindowStart = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
const spoofedIp = (i: number) => `198.51.100.${i + 1}`;

describe("through nginx, the client's own address and country headers are not trusted", () => {
  it("limits a client that rotates CF-Connecting-IP and friends: 14 requests under a limit of 10", async () => {
    await atWindowStart();
    // All at once, so a loaded machine cannot spread them over two windows.
    const answered = await Promise.all(
      Array.from({ length: 14 }, async (_, i) => {
        const res = await fetch(`${cluster.lbUrl}/api/v1/keys`, {
          headers: {
            ...bearer(cluster.adminToken),
            "CF-Connecting-IP": spoofedIp(i),
            "X-Forwarded-For": spoofedIp(i),
            "X-Real-IP": spoofedIp(i),
            "True-Client-IP": spoofedIp(i),
            Forwarded: `for=${spoofedIp(i)}`,
          },
        });
        return res.status;
      }),
    );
    // Trusting any of those headers makes 14 clients of one, none of them over the limit.
    expect(answered.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    expect(answered.filter((s) => s === 200).length).toBeLessThanOrEqual(10);
  });

  it("does not record a client-sent CF-IPCountry as the click's country", async () => {
    const slug = `geo-${crypto.randomUUID().slice(0, 8)}`;
    const created = await fetch(`${cluster.lbUrl}/api/v1/links`, {
      method: "POST",
      headers: { ...bearer(cluster.adminToken), "Content-Type": "application/json" },
      body: JSON.stringify({ url: "https://example.com/geo", slug }),
    });
    expect(created.status).toBe(201);
    const click = await fetch(`${cluster.lbUrl}/${slug}`, {
      redirect: "manual",
      headers: { "CF-IPCountry": "DE", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" },
    });
    expect(click.status).toBe(302);
    const rows = await eventually(async () => {
      const { rows } = await db.query("select country from click_events where slug = $1", [slug]);
      return rows.length ? rows : undefined;
    }, 20_000);
    expect(rows).toEqual([{ country: null }]);
  });
});

describe("internal services refuse callers without the deployment's token", () => {
  const internal = () => bearer(cluster.secrets.internalToken);
  const metrics = () => bearer(cluster.secrets.metricsToken);

  it("KV service: a forged link record is refused", async () => {
    const url = `http://${cluster.kv.address}/${encodeURIComponent("link:forged")}?urlencoded=true`;
    const put = { method: "PUT", body: '{"v":1,"id":1,"u":"https://evil.example"}' };
    expect(await statuses(url, internal(), put)).toEqual([401, 401, 200]);
    await fetch(url, { method: "DELETE", headers: internal() });
  });

  it("queue broker: forged clicks and dead-letter replays are refused", async () => {
    const message = { method: "POST", headers: { "X-Msg-Fmt": "json" }, body: "{}" };
    expect((await statuses(`${cluster.broker.url}/message`, {}, message)).slice(0, 2)).toEqual([401, 401]);
    expect(await statuses(`${cluster.broker.url}/replay-dlq`, internal(), { method: "POST" })).toEqual([
      401, 401, 200,
    ]);
  });

  it("aggregator: its queue endpoint needs the push token, /metrics the metrics token", async () => {
    const batch = { method: "POST", body: JSON.stringify({ messages: [] }) };
    expect(await statuses(`${cluster.aggregator.url}/__queue/clicks`, internal(), batch)).toEqual([
      401, 401, 200,
    ]);
    expect(await statuses(`${cluster.aggregator.url}/metrics`, metrics())).toEqual([401, 401, 200]);
  });

  it("edge replicas, the click shippers and nginx answer /metrics only with the metrics token", async () => {
    const replica = cluster.replicas[0]?.url;
    expect(await statuses(`${replica}/metrics`, metrics())).toEqual([401, 401, 200]);
    const shippers = `http://127.0.0.1:${cluster.shipperMetrics.port}/metrics`;
    expect(await statuses(shippers, metrics())).toEqual([401, 401, 200]);
    expect(await statuses(`${cluster.lbUrl}/metrics`, metrics())).toEqual([401, 401, 200]);
  });

  it("Upstash REST gateway: commands need the token", async () => {
    const ping = { method: "POST", body: '["PING"]' };
    expect(await statuses(cluster.gateway.url, internal(), ping)).toEqual([401, 401, 200]);
  });

  it("Neon WebSocket proxy: relays only to Postgres, only with the token, never for a browser", async () => {
    const [hostPort] = cluster.wsProxy.url.split("/");
    const postgres = new URL(cluster.databaseUrl).port;
    const redis = new URL(cluster.redis.url).port;
    expect(await handshake(`ws://${hostPort}/v2?address=127.0.0.1:${postgres}`)).toBe(401);
    expect(await handshake(`ws://${hostPort}/v2/wrong-token?address=127.0.0.1:${postgres}`)).toBe(401);
    expect(await handshake(`ws://${cluster.wsProxy.url}?address=127.0.0.1:${redis}`)).toBe(403);
    const origin = { Origin: "https://evil.example" };
    expect(await handshake(`ws://${cluster.wsProxy.url}?address=127.0.0.1:${postgres}`, origin)).toBe(403);
    expect(await handshake(`ws://${cluster.wsProxy.url}?address=127.0.0.1:${postgres}`)).toBe("open");
  });

  it("listens on loopback only: every internal socket is bound to 127.0.0.1, as the kernel reports it", () => {
    const internal = [cluster.kv.address, cluster.wsProxy.url, cluster.broker.url, cluster.gateway.url];
    const urls = [...internal, cluster.aggregator.url, ...cluster.replicas.map((r) => r.url)];
    for (const url of urls) {
      const port = Number(/:(\d+)/.exec(url)?.[1]);
      const bound = listeningAddresses(port);
      expect(bound, `port ${port} (${url})`).not.toHaveLength(0);
      expect(bound, `port ${port} (${url})`).toEqual(bound.map(() => "127.0.0.1"));
    }
  });
});

/** The local addresses of the sockets listening on `port`, from the kernel's own tables (IPv4 and IPv6). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local?.endsWith(`:${hexPort}`)) continue; // 0A: LISTEN
      const hex = local.slice(0, -5);
      found.push(hex === "0100007F" ? "127.0.0.1" : hex);
    }
  }
  return found;
}
