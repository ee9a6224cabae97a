import { connect } from "node:net";
import { describe, expect, it, vi } from "vitest";
import {
  ackAll,
  BROKER_TOKEN,
  broker,
  empty,
  fakeConsumer,
  fields,
  GROUP,
  jsonMessage,
  newQueue,
  queueState,
  redis,
  redisServer,
  sendBatch,
  sendMessage,
  sleep,
  TOKEN,
  useQueueBrokerFixtures,
  withToken,
} from "./queue-broker/test-support";
import { freePort } from "./services/free-port";

useQueueBrokerFixtures();

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
