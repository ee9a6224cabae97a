import { describe, expect, it, vi } from "vitest";
import {
  ackAll,
  broker,
  empty,
  fakeConsumer,
  fields,
  jsonMessage,
  newQueue,
  queueState,
  redis,
  sendBatch,
  sendMessage,
  sleep,
  useQueueBrokerFixtures,
  withToken,
} from "./test-support";

useQueueBrokerFixtures();

describe("queue broker delivery", () => {
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
