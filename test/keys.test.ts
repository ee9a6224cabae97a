import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

type CreatedKey = { id: number; key: string; prefix: string; ownerId: string; scopes: string[] };

async function createKey(scopes: string[], ownerId?: string): Promise<CreatedKey> {
  const res = await stack.api("POST", "/keys", { name: `k-${scopes.join("+")}`, scopes, ownerId });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as CreatedKey;
}

const as = (key: string, method: string, path: string, body?: unknown) =>
  stack.fetch(`/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

describe("/api/v1/keys", () => {
  it("returns the secret once and stores only its hash", async () => {
    const created = await createKey(["links:read"]);
    expect(created.key).toMatch(/^lk_[A-Za-z0-9]{32}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const { rows } = await stack.db.query("select key_hash, prefix from api_keys where id = $1", [
      created.id,
    ]);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.key);
    const list = await (await stack.api("GET", "/keys")).text();
    expect(list).toContain(created.prefix);
    expect(list).not.toContain(created.key);
  });

  it("enforces scopes: 403 for the wrong scope, 401 for an unknown key", async () => {
    const reader = await createKey(["links:read"]);
    expect((await as(reader.key, "GET", "/links")).status).toBe(200);
    expect((await as(reader.key, "POST", "/links", { url: "https://example.com/" })).status).toBe(403);
    expect((await as(reader.key, "GET", "/keys")).status).toBe(403);
    expect((await as(reader.key, "GET", "/stats")).status).toBe(403);
    expect((await as(`${reader.key}x`, "GET", "/links")).status).toBe(401);
  });

  it("revokes at once", async () => {
    const key = await createKey(["links:read"]);
    expect((await as(key.key, "GET", "/links")).status).toBe(200);
    expect((await stack.api("DELETE", `/keys/${key.id}`)).status).toBe(204);
    expect((await as(key.key, "GET", "/links")).status).toBe(401);
    expect((await stack.api("DELETE", `/keys/${key.id}`)).status).toBe(404);
  });

  it("keeps owners apart: another owner's links and stats are 404", async () => {
    const alice = await createKey(["links:read", "links:write", "stats:read"], "alice");
    const bob = await createKey(["links:read", "links:write", "stats:read"], "bob");
    const slug = `own-${crypto.randomUUID().slice(0, 8)}`;
    expect((await as(alice.key, "POST", "/links", { url: "https://alice.example/", slug })).status).toBe(201);
    expect((await as(bob.key, "GET", `/links/${slug}`)).status).toBe(404);
    expect((await as(bob.key, "PATCH", `/links/${slug}`, { url: "https://bob.example/" })).status).toBe(404);
    expect((await as(bob.key, "DELETE", `/links/${slug}`)).status).toBe(404);
    expect((await as(bob.key, "GET", `/links/${slug}/stats`)).status).toBe(404);
    const bobsList = (await (await as(bob.key, "GET", "/links")).json()) as { data: { slug: string }[] };
    expect(bobsList.data.map((l) => l.slug)).not.toContain(slug);
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe("https://alice.example/");
    // The same slug is still taken for bob: slugs are global, since they share one domain.
    expect((await as(bob.key, "POST", "/links", { url: "https://bob.example/", slug })).status).toBe(409);
  });

  it("refuses unknown scopes and fields", async () => {
    expect((await stack.api("POST", "/keys", { name: "x", scopes: ["root"] })).status).toBe(400);
    expect(
      (await stack.api("POST", "/keys", { name: "x", scopes: ["links:read"], admin: true })).status,
    ).toBe(400);
  });
});
