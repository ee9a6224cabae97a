import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./stack";

/** A deployment that forgot VISITOR_SALT: the edge worker as workerd runs it, with real Redis and Postgres. */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder", vars: { VISITOR_SALT: "" } });
});
afterAll(() => stack?.close());

describe("without VISITOR_SALT", () => {
  it("still redirects, records no click, and counts what it did not record", async () => {
    const slug = `nosalt-${crypto.randomUUID().slice(0, 8)}`;
    expect((await stack.api("POST", "/links", { url: "https://example.com/salt", slug })).status).toBe(201);
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(302);
    // The recorder takes a batch within a second; give it two.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await stack.received()).filter((e) => e.slug === slug)).toEqual([]);
    const metrics = await (await stack.fetch("/metrics")).text();
    expect(metrics).toMatch(/^edge_clicks_unrecorded_total\{reason="no_visitor_salt"\} 1$/m);
  });

  it("is not ready, and /ready names the missing secret", async () => {
    const res = await stack.fetch("/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable", failed: [], missing: ["VISITOR_SALT"] });
  });
});
