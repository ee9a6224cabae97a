import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./stack";
import { startTestCluster } from "./test-cluster";

/**
 * Several short domains self-hosted (issue #16): nginx passes every Host through to the replicas,
 * which pick the domain from their own copy of the domain table; a domain added through the API
 * is served by every replica without touching nginx. Hostile Host headers, through nginx and
 * straight to a replica, get a clear 4xx, never a 5xx.
 */

let env: Awaited<ReturnType<typeof startTestCluster>>;
let lbPort: number;
const slug = `launch-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  env = await startTestCluster({ replicas: 2, vars: { DOMAIN_TABLE_REFRESH_SECONDS: "1" } });
  lbPort = Number(new URL(env.cluster.lbUrl).port);
}, 180_000);
afterAll(() => env?.close(), 60_000);

const admin = () => ({
  Authorization: `Bearer ${env.cluster.adminToken}`,
  "Content-Type": "application/json",
});

/** One raw HTTP request (as written, headers and all) and the answer's status line and body. */
function raw(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", body = ""] = data.split("\r\n\r\n", 2);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer in 10 s")));
    // Not end(): nginx takes a half-closed client for one that went away, and answers nothing.
    socket.write(request);
  });
}

const get = (port: number, headers: string[], path = `/${slug}`, version = "1.1") =>
  raw(port, `GET ${path} HTTP/${version}\r\n${[...headers, "Connection: close"].join("\r\n")}\r\n\r\n`);

describe("several domains behind nginx", () => {
  beforeAll(async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${env.cluster.lbUrl}/api/v1${path}`, {
        method: "POST",
        headers: admin(),
        body: JSON.stringify(body),
      });
    expect((await post("/links", { url: "https://default.example/", slug })).status).toBe(201);
    expect(
      (await post("/domains", { name: "acme.test", notFoundUrl: "https://acme.example/404" })).status,
    ).toBe(201);
    expect((await post("/links", { url: "https://acme.example/", slug, domain: "acme.test" })).status).toBe(
      201,
    );
  }, 60_000);

  it("serves a domain added through the API on every replica, for every spelling of its Host", async () => {
    const locations = async (host: string) => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => get(lbPort, [`Host: ${host}`])));
      return new Set(answers.map((a) => `${a.status} ${/^location: (.*)$/im.exec(a.head)?.[1]}`));
    };
    // Each replica re-reads the table within DOMAIN_TABLE_REFRESH_SECONDS; least_conn spreads the 8 over both.
    await eventually(async () => {
      const seen = await locations(`acme.test:${lbPort}`);
      return seen.size === 1 && seen.has("302 https://acme.example/") ? true : undefined;
    }, 20_000);
    for (const host of ["ACME.test", `acme.TEST.:${lbPort}`, "acme.test:80"]) {
      expect([...(await locations(host))], host).toEqual(["302 https://acme.example/"]);
    }
    expect([...(await locations(`127.0.0.1:${lbPort}`))]).toEqual(["302 https://default.example/"]);
    expect([...(await locations("unknown.example"))]).toEqual(["302 https://default.example/"]);
    const missing = await get(lbPort, ["Host: acme.test"], "/no-such-slug");
    expect(`${missing.status} ${/^location: (.*)$/im.exec(missing.head)?.[1]}`).toBe(
      "302 https://acme.example/404",
    );
  });

  it("answers hostile Host headers with a 4xx: nginx refuses what is no HTTP, the worker what is no host", async () => {
    const cases: Array<[string, string[], string?]> = [
      ["duplicated", ["Host: acme.test", "Host: other.test"]],
      ["missing (HTTP/1.1)", []],
      ["with a space", ["Host: acme test"]],
      ["with a path", ["Host: acme.test/x"]],
      ["over-long label", [`Host: ${"a".repeat(64)}.test`]],
      ["over-long name", [`Host: ${"abcdefghi.".repeat(30)}test`]],
      ["a bad port", ["Host: acme.test:99999"]],
      ["userinfo", ["Host: me@acme.test"]],
    ];
    for (const [name, headers] of cases) {
      const answer = await get(lbPort, headers);
      expect(answer.status, `${name}: ${answer.head}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${name}: ${answer.head}`).toBeLessThan(500);
    }
    // What reached the worker is its own problem+json.
    const long = await get(lbPort, [`Host: ${"a".repeat(64)}.test`]);
    expect(long.head).toMatch(/content-type: application\/problem\+json/i);
    expect(long.body).toContain("invalid-host");
  });

  it("answers an HTTP/1.0 request without Host with the invalid-host problem (nginx, not workerd's plain 400)", async () => {
    const answer = await get(lbPort, [], `/${slug}`, "1.0");
    expect(answer.status, answer.head).toBe(400);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 400,
      type: "https://edge-redirect.dev/problems/invalid-host",
      // The edge's own wording for an empty Host: one problem, whoever answers it.
      detail: "the Host header must not be empty",
    });
  });
});

describe("hostile Host headers straight to a replica", () => {
  it("answers each with a 4xx (the worker's invalid-host problem where workerd lets it through), never a 5xx", async () => {
    const port = env.cluster.replicas[0]?.port as number;
    // [what, headers, HTTP version, status, what the answer says]
    const cases: Array<[string, string[], string, number, string]> = [
      // workerd joins the two values with a comma: no host name.
      ["duplicated", ["Host: acme.test", "Host: other.test"], "1.1", 400, "invalid-host"],
      // workerd refuses these itself, before the worker runs.
      ["missing (HTTP/1.1)", [], "1.1", 400, "Bad Request"],
      ["missing (HTTP/1.0)", [], "1.0", 400, "Bad Request"],
      ["empty", ["Host: "], "1.1", 400, "Bad Request"],
      ["over-long label", [`Host: ${"a".repeat(64)}.test`], "1.1", 400, "invalid-host"],
      ["over-long name", [`Host: ${"abcdefghi.".repeat(30)}test`], "1.1", 400, "invalid-host"],
      ["a bad port", ["Host: acme.test:99999"], "1.1", 400, "invalid-host"],
      // A raw UTF-8 name is no configured domain's punycode: the default domain.
      ["IDN in UTF-8", ["Host: bücher.test"], "1.1", 302, "https://default.example/"],
      ["uppercase with a port", ["Host: ACME.TEST:8080"], "1.1", 302, "https://acme.example/"],
    ];
    for (const [name, headers, version, status, says] of cases) {
      const answer = await get(port, [...headers, "X-Real-IP: 198.51.100.7"], `/${slug}`, version);
      expect(answer.status, `${name}: ${answer.head}`).toBe(status);
      expect(`${answer.head}\n${answer.body}`, name).toContain(says);
    }
  });
});
