import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import IORedis from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type QueueBroker, startQueueBroker } from "./queue-broker";
import { freePort } from "./services/free-port";
import { readBody } from "./services/http";
import { type RedisServer, startRedis } from "./services/redis";

const TOKEN = "push-token";
/** What producers and operators must present to the broker itself. */
const BROKER_TOKEN = "broker-token";
/** `init` with the broker's token, as the runner, the shipper and workerd's binding send it. */
const withToken = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${BROKER_TOKEN}` },
});
const GROUP = "aggregator";

type Delivery = { id: string; body: unknown; attempts: number; timestamp: number };
type Batch = { messages: Delivery[]; backlog: Record<string, number>; lagSeconds: number };
type Answer = { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };
/** What the fake consumer does with a batch: answer, fail with a status, or never answer. */
type Reply = Answer | { status: number } | "hang";
type FakeConsumer = {
  received: Array<Batch & { at: number; auth?: string }>;
  /** id → body of every message this consumer answered as acked. */
  acked: Map<string, unknown>;
  respond: (batch: Batch) => Reply | Promise<Reply>;
  url: string;
  deliveries(): Array<Delivery & { at: number }>;
  /** Listens (again) on the same port. */
  start(): Promise<void>;
  /** Stops listening: the broker's requests are refused. */
  stop(): Promise<void>;
};

let redisServer: RedisServer;
let redis: IORedis;
const brokers: QueueBroker[] = [];
const consumers: FakeConsumer[] = [];
let queues = 0;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new IORedis(redisServer.url);
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ackAll = (batch: Batch): Answer => ({ acked: batch.messages.map((m) => m.id), retried: [] });
/** A fresh queue per test, so the tests share one Redis without seeing each other's streams. */
const newQueue = () => `t${++queues}-${Date.now()}`;

/** The aggregator's push endpoint, as a test double: records every batch and answers as `respond` says. */
async function fakeConsumer(): Promise<FakeConsumer> {
  const received: FakeConsumer["received"] = [];
  const acked = new Map<string, unknown>();
  const hung = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const at = Date.now();
    const batch = JSON.parse((await readBody(req)).toString("utf8")) as Batch;
    received.push({ ...batch, at, auth: req.headers.authorization });
    const reply = await consumer.respond(batch);
    if (reply === "hang") return void hung.add(res);
    if ("status" in reply) return void res.writeHead(reply.status).end("consumer failing");
    for (const id of reply.acked) acked.set(id, batch.messages.find((m) => m.id === id)?.body);
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(reply));
  });
  let port = 0;
  const consumer: FakeConsumer = {
    received,
    acked,
    respond: ackAll,
    url: "",
    deliveries: () => received.flatMap((b) => b.messages.map((m) => ({ ...m, at: b.at }))),
    start: () =>
      new Promise<void>((resolve) =>
        server.listen(port, "127.0.0.1", () => {
          port = (server.address() as AddressInfo).port;
          resolve();
        }),
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        hung.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  await consumer.start();
  consumer.url = `http://127.0.0.1:${port}/__queue/clicks`;
  consumers.push(consumer);
  return consumer;
}

async function broker(
  consumerUrl: string,
  opts: Partial<Parameters<typeof startQueueBroker>[0]> & { queue: string },
): Promise<QueueBroker> {
  const b = await startQueueBroker({
    redisUrl: redisServer.url,
    consumerUrl,
    consumerToken: TOKEN,
    token: BROKER_TOKEN,
    maxBatchTimeoutMs: 100,
    retryBaseDelayMs: 100,
    ...opts,
  });
  brokers.push(b);
  return b;
}

const sendMessage = (b: QueueBroker, body: unknown) =>
  fetch(
    `${b.url}/message`,
    withToken({
      method: "POST",
      headers: { "X-Msg-Fmt": "json", "Content-Type": "application/octet-stream" },
      body: JSON.stringify(body),
    }),
  );
const sendBatch = (b: QueueBroker, messages: Array<{ body: string; contentType: string }>) =>
  fetch(`${b.url}/batch`, withToken({ method: "POST", body: JSON.stringify({ messages }) }));
const jsonMessage = (value: unknown) => ({
  body: Buffer.from(JSON.stringify(value)).toString("base64"),
  contentType: "json",
});

/** What Redis holds for a queue: entries in the stream, deliveries pending, dead letters. */
async function queueState(queue: string) {
  const summary = (await redis.xpending(`q:${queue}`, GROUP)) as [number];
  return {
    length: await redis.xlen(`q:${queue}`),
    pending: Number(summary[0]),
    dead: await redis.xlen(`q:${queue}-dlq`),
  };
}
const empty = { length: 0, pending: 0, dead: 0 };

function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

describe("queue broker", () => {
  it("delivers /message and /batch in batches of at most maxBatchSize, acking only after the answer", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    const pendingWhileConsuming: number[] = [];
    consumer.respond = async (batch) => {
      pendingWhileConsuming.push(((await redis.xpending(`q:${queue}`, GROUP)) as [number])[0]);
      return ackAll(batch);
    };
    const b = await broker(consumer.url, { queue, maxBatchSize: 3 });
    const before = Date.now();
    expect((await sendMessage(b, { n: 0 })).status).toBe(200);
    const batch = await sendBatch(
      b,
      [1, 2, 3, 4, 5, 6].map((n) => jsonMessage({ n })),
    );
    expect(batch.status).toBe(200);

    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(7), { timeout: 5000 });
    const deliveries = consumer.deliveries();
    expect(deliveries.map((d) => d.body)).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    expect(deliveries.map((d) => d.attempts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(7);
    for (const d of deliveries) expect(d.timestamp).toBeGreaterThanOrEqual(before);
    const sizes = consumer.received.map((r) => r.messages.length);
    expect(Math.max(...sizes)).toBe(3);
    expect(consumer.received.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(Object.keys(consumer.received[0]?.backlog ?? {}).sort()).toEqual([queue, `${queue}-dlq`].sort());
    expect(typeof consumer.received[0]?.lagSeconds).toBe("number");
    // Ack after commit: while the consumer was working, its batch was still pending.
    pendingWhileConsuming.forEach((pending, i) => {
      expect(pending).toBeGreaterThanOrEqual(sizes[i] as number);
    });

    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
    expect(await b.stats()).toMatchObject({ backlog: 0, pending: 0, deadLetters: 0 });
    await sleep(300);
    expect(consumer.deliveries()).toHaveLength(7);
  });

  it("answers 200 with workerd's metrics shape once stored, and refuses what it cannot store", async () => {
    const queue = newQueue();
    // No consumer listening: messages stay in the stream, so the backlog counts are exact.
    const b = await broker(`http://127.0.0.1:${await freePort()}/__queue/clicks`, { queue });
    const metrics = (backlogCount: number) => ({
      metadata: { metrics: { backlogCount, backlogBytes: 0, oldestMessageTimestamp: 0 } },
    });

    const one = await sendMessage(b, { a: 1 });
    expect(one.status).toBe(200);
    expect(one.headers.get("content-type")).toContain("application/json");
    expect(await one.json()).toEqual(metrics(1));
    const [[, stored] = ["", []]] = (await redis.xrange(`q:${queue}`, "-", "+")) as Array<[string, string[]]>;
    expect(fields(stored)).toMatchObject({ body: '{"a":1}', type: "json" });
    const text = { body: Buffer.from("plain words").toString("base64"), contentType: "text" };
    const two = await sendBatch(b, [jsonMessage({ b: 2 }), text]);
    expect(two.status).toBe(200);
    expect(await two.json()).toEqual(metrics(3));

    const v8 = await sendBatch(b, [{ body: "AAAA", contentType: "v8" }]);
    expect(v8.status).toBe(400);
    const noFormat = await fetch(`${b.url}/message`, withToken({ method: "POST", body: "{}" }));
    expect(noFormat.status).toBe(400);
    const badJson = await fetch(
      `${b.url}/message`,
      withToken({ method: "POST", headers: { "X-Msg-Fmt": "json" }, body: "{not json" }),
    );
    expect(badJson.status).toBe(400);
    expect(await redis.xlen(`q:${queue}`)).toBe(3);

    // A client that hangs up right after sending still has its message stored.
    const body = '{"gone":true}';
    const socket = connect(b.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const request = `POST /message HTTP/1.1\r\nHost: broker\r\nAuthorization: Bearer ${BROKER_TOKEN}\r\nX-Msg-Fmt: json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    socket.write(request, () => socket.destroy());
    await vi.waitFor(async () => expect(await redis.xlen(`q:${queue}`)).toBe(4));

    const stats = (await (await fetch(`${b.url}/stats`, withToken())).json()) as Record<string, number>;
    expect(stats.deadLetters).toBe(0);
    expect((stats.backlog ?? 0) + (stats.pending ?? 0)).toBe(4);
    expect(stats.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  it("holds a producer request while Redis restarts, and answers 200 once the message is stored", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    const b = await broker(consumer.url, { queue });
    await redisServer.stop();
    let answered = false;
    const sent = sendMessage(b, { during: "outage" }).finally(() => {
      answered = true;
    });
    await sleep(500);
    expect(answered).toBe(false);
    // Without persistence Redis comes back empty: stream and group are created again.
    await redisServer.start();
    const res = await sent;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { metadata: unknown }).metadata).toBeDefined();
    await vi.waitFor(() => expect(consumer.deliveries().map((d) => d.body)).toEqual([{ during: "outage" }]), {
      timeout: 10_000,
    });
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty), { timeout: 5000 });
  });

  it("redelivers a retried message after its delay, not before, with attempts 2", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    consumer.respond = (batch) =>
      batch.messages[0]?.attempts === 1
        ? { acked: [], retried: batch.messages.map((m) => ({ id: m.id, delaySeconds: 1 })) }
        : ackAll(batch);
    // A visibility timeout shorter than the delay: the parked retry must not come back through it.
    const b = await broker(consumer.url, { queue, visibilityTimeoutMs: 300 });
    await sendMessage(b, { retry: "me" });

    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(2), { timeout: 5000 });
    const [first, second] = consumer.deliveries();
    expect(second?.id).toBe(first?.id);
    expect([first?.attempts, second?.attempts]).toEqual([1, 2]);
    expect(second?.body).toEqual({ retry: "me" });
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1000);
    expect(gap).toBeLessThan(2500);
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
    await sleep(400);
    expect(consumer.deliveries()).toHaveLength(2);
  });

  it("dead-letters a message after maxRetries retries, and replays it on demand", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    consumer.respond = (batch) => ({
      acked: [],
      retried: batch.messages.map((m) => ({ id: m.id, delaySeconds: 0 })),
    });
    const b = await broker(consumer.url, { queue, maxRetries: 2 });
    await sendMessage(b, { poison: true });

    await vi.waitFor(async () => expect((await b.stats()).deadLetters).toBe(1), { timeout: 5000 });
    const first = consumer.deliveries()[0];
    expect(consumer.deliveries().map((d) => d.attempts)).toEqual([1, 2, 3]);
    await sleep(400);
    expect(consumer.deliveries()).toHaveLength(3);
    expect(await queueState(queue)).toEqual({ length: 0, pending: 0, dead: 1 });
    const [[, dead] = ["", []]] = (await redis.xrange(`q:${queue}-dlq`, "-", "+")) as Array<
      [string, string[]]
    >;
    expect(fields(dead)).toMatchObject({ body: '{"poison":true}', id: first?.id, attempts: "3" });
    const stats = (await (await fetch(`${b.url}/stats`, withToken())).json()) as Record<string, number>;
    expect(stats).toMatchObject({ backlog: 0, pending: 0, deadLetters: 1 });

    consumer.respond = ackAll;
    expect(await b.replayDeadLetters()).toBe(1);
    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(4), { timeout: 5000 });
    const replayed = consumer.deliveries()[3];
    expect(replayed).toMatchObject({ body: { poison: true }, attempts: 1 });
    expect(replayed?.id).not.toBe(first?.id);
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
    expect([...consumer.acked.keys()]).toEqual([replayed?.id]);
    const again = await fetch(`${b.url}/replay-dlq`, withToken({ method: "POST" }));
    expect(await again.json()).toEqual({ replayed: 0 });
  });

  it("loses nothing while the consumer is down or failing, and delivers everything once it is back", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    await consumer.stop();
    const b = await broker(consumer.url, { queue, maxBatchSize: 4 });
    expect(
      (
        await sendBatch(
          b,
          [...Array(10).keys()].map((n) => jsonMessage({ n })),
        )
      ).status,
    ).toBe(200);
    await sleep(500);
    expect(await queueState(queue)).toMatchObject({ length: 10, dead: 0 });

    // Back, but failing its first two batches.
    const failedWith500 = new Map<string, number>();
    let failing = 2;
    consumer.respond = (batch) => {
      if (failing-- <= 0) return ackAll(batch);
      for (const m of batch.messages) failedWith500.set(m.id, (failedWith500.get(m.id) ?? 0) + 1);
      return { status: 500 };
    };
    await consumer.start();

    await vi.waitFor(() => expect(consumer.acked.size).toBe(10), { timeout: 15_000, interval: 100 });
    expect([...consumer.acked.values()]).toEqual(
      expect.arrayContaining([...Array(10).keys()].map((n) => ({ n }))),
    );
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
    expect(failedWith500.size).toBeGreaterThan(0);
    // A 500 counts as a delivery; a refused connection does not.
    const lastDelivery = new Map(consumer.deliveries().map((d) => [d.id, d]));
    expect(lastDelivery.size).toBe(10);
    for (const [id, d] of lastDelivery) expect(d.attempts, id).toBe((failedWith500.get(id) ?? 0) + 1);
    expect(consumer.received.length).toBeLessThan(10); // backed off instead of hammering
  });

  it("redelivers a delivery that was never answered after the visibility timeout, from a new broker", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    consumer.respond = () => "hang";
    const crashed = await broker(consumer.url, { queue, visibilityTimeoutMs: 500 });
    await sendMessage(crashed, { survives: "crash" });
    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(1));
    await crashed.close();
    expect(await queueState(queue)).toEqual({ length: 1, pending: 1, dead: 0 });

    consumer.respond = ackAll;
    await broker(consumer.url, { queue, visibilityTimeoutMs: 500 });
    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(2), { timeout: 5000 });
    const [first, second] = consumer.deliveries();
    expect(second).toMatchObject({ id: first?.id, attempts: 2, body: { survives: "crash" } });
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(500);
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
  });
});

describe("queue broker access", () => {
  it("refuses every route without the token or with a wrong one, and serves the right one", async () => {
    const queue = newQueue();
    const b = await broker("http://127.0.0.1:9/none", { queue });
    const forged: Record<string, { method: string; headers?: Record<string, string>; body?: string }> = {
      "/message": { method: "POST", headers: { "X-Msg-Fmt": "json" }, body: '{"forged":true}' },
      "/batch": { method: "POST", body: JSON.stringify({ messages: [jsonMessage({ forged: true })] }) },
      "/replay-dlq": { method: "POST" },
      "/stats": { method: "GET" },
    };
    for (const [path, init] of Object.entries(forged)) {
      expect((await fetch(`${b.url}${path}`, init)).status, `${path} without a token`).toBe(401);
      const wrong = { ...init, headers: { ...init.headers, Authorization: "Bearer wrong-token" } };
      expect((await fetch(`${b.url}${path}`, wrong)).status, `${path} with a wrong token`).toBe(401);
    }
    expect(await redis.xlen(`q:${queue}`)).toBe(0);
    for (const [path, init] of Object.entries(forged))
      expect((await fetch(`${b.url}${path}`, withToken(init))).status, path).toBe(200);
    expect(await redis.xlen(`q:${queue}`)).toBe(2);
  });

  it("does not start without a token", async () => {
    await expect(broker("http://127.0.0.1:9/none", { queue: newQueue(), token: "" })).rejects.toThrow(
      /token/,
    );
  });
});
