import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidFromRequestId } from "../worker/src/services/click-event";
import { type Stack, startStack } from "./stack";

/**
 * Click ids come from `X-Request-Id` only where the deployment says a trusted load
 * balancer sets it (TRUST_REQUEST_ID=true, self-host behind nginx). Anywhere else a
 * client could choose its click ids, and make the aggregator drop real clicks as
 * duplicates of an id it sent before.
 */
let plain: Stack;
let trusting: Stack;
beforeAll(async () => {
  [plain, trusting] = await Promise.all([
    startStack({ consumer: "aggregator" }),
    startStack({ consumer: "aggregator", vars: { TRUST_REQUEST_ID: "true" } }),
  ]);
});
afterAll(() => Promise.all([plain?.close(), trusting?.close()]));

const REQUEST_ID = "5f0c6a1e9b2d4c7f8a3e1d2c4b6a8f90";

/** Clicks a new link twice with the same X-Request-Id; returns the link's id. */
async function clickTwiceWithOneRequestId(stack: Stack): Promise<number> {
  const slug = `rid-${crypto.randomUUID().slice(0, 8)}`;
  const res = await stack.api("POST", "/links", { url: "https://example.com/rid", slug });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: number };
  for (let i = 0; i < 2; i++) {
    const click = await stack.fetch(`/${slug}`, { headers: { "X-Request-Id": REQUEST_ID } });
    expect(click.status).toBe(302);
  }
  return id;
}

/** The stored click ids of a link once there are `atLeast` of them, or when `timeoutMs` is up. */
async function storedIds(
  stack: Stack,
  linkId: number,
  atLeast: number,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await stack.db.query("select id from click_events where link_id = $1 order by id", [
      linkId,
    ]);
    if (rows.length >= atLeast || Date.now() > deadline) return rows.map((r) => String(r.id));
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("X-Request-Id as the click id", () => {
  it("is ignored by default: two clicks with the same X-Request-Id are both counted", async () => {
    const linkId = await clickTwiceWithOneRequestId(plain);
    const ids = await storedIds(plain, linkId, 2, 15_000);
    expect(ids).toHaveLength(2);
    expect(ids).not.toContain(uuidFromRequestId(REQUEST_ID));
  });

  it("becomes the click id with TRUST_REQUEST_ID=true, so a retried request is counted once", async () => {
    const linkId = await clickTwiceWithOneRequestId(trusting);
    // Waits out the batch interval (1 s) several times over, so a second row would have arrived.
    expect(await storedIds(trusting, linkId, 2, 5_000)).toEqual([uuidFromRequestId(REQUEST_ID)]);
  });
});
