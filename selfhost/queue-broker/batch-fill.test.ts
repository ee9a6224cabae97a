import { describe, expect, it, vi } from "vitest";
import { broker, fakeConsumer, newQueue, sleep, useQueueBrokerFixtures } from "./test-support";

useQueueBrokerFixtures();

/** A delivery costs the consumer a Postgres connection whatever its size, so the broker fills it first. */
describe("queue broker batch fill", () => {
  it("waits batchFillMs after the first new message for others to join its delivery", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    const b = await broker(consumer.url, { queue, maxBatchSize: 10, batchFillMs: 60_000 });
    await b.appendJson(['{"n":0}']);
    // Long enough for a broker that delivers what it has to have sent the first one alone.
    await sleep(300);
    expect(consumer.received).toHaveLength(0);
    await b.appendJson(['{"n":1}', '{"n":2}']);
    for (let n = 3; n < 10; n++) await b.appendJson([`{"n":${n}}`]);
    await vi.waitFor(() => expect(consumer.received).toHaveLength(1), { timeout: 5000 });
    expect(consumer.received[0]?.messages.map((m) => m.body)).toEqual(
      Array.from({ length: 10 }, (_, n) => ({ n })),
    );
  });

  it("delivers a full batch at once, without waiting out the fill", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    const b = await broker(consumer.url, { queue, maxBatchSize: 4, batchFillMs: 60_000 });
    await b.appendJson(['{"n":0}', '{"n":1}']);
    await b.appendJson(['{"n":2}', '{"n":3}']);
    await vi.waitFor(() => expect(consumer.received).toHaveLength(1), { timeout: 5000 });
    expect(consumer.received[0]?.messages.map((m) => m.body)).toEqual([0, 1, 2, 3].map((n) => ({ n })));
  });

  it("with batchFillMs 0 delivers what is there", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    const b = await broker(consumer.url, { queue, maxBatchSize: 10, batchFillMs: 0 });
    await b.appendJson(['{"n":0}']);
    await vi.waitFor(() => expect(consumer.received).toHaveLength(1), { timeout: 5000 });
    expect(consumer.received[0]?.messages.map((m) => m.body)).toEqual([{ n: 0 }]);
  });
});
