import { describe, expect, it, vi } from "vitest";
import {
  ackAll,
  broker,
  empty,
  fakeConsumer,
  newQueue,
  queueState,
  redis,
  useQueueBrokerFixtures,
} from "./test-support";

useQueueBrokerFixtures();

/** The click shipper's path: appendJson stores what it read in one go as one stream entry. */
describe("queue broker batch entries", () => {
  it("stores a batch as one entry and delivers each body as a message of its own", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    consumer.respond = () => ({ acked: [], retried: [] }); // unanswered ids stay pending
    const b = await broker(consumer.url, { queue });
    await b.appendJson(['{"n":0}', '{"n":1,\n"x":"a\\nb"}', '{"n":2}']);
    expect(await redis.xlen(`q:${queue}`)).toBe(1);

    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(3), { timeout: 5000 });
    const [entry] = (await redis.xrange(`q:${queue}`, "-", "+")) as Array<[string, string[]]>;
    expect(consumer.deliveries().map((d) => [d.id, d.body, d.attempts])).toEqual([
      [`${entry?.[0]}/0`, { n: 0 }, 1],
      [`${entry?.[0]}/1`, { n: 1, x: "a\nb" }, 1],
      [`${entry?.[0]}/2`, { n: 2 }, 1],
    ]);
  });

  it("acks an entry once every body of it is acked, and redelivers it whole when one is retried", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    let first = true;
    consumer.respond = (batch) => {
      if (!first) return ackAll(batch);
      first = false;
      // The consumer stored the first two and asks for the third again.
      const [a, b, c] = batch.messages;
      return { acked: [a?.id, b?.id].map(String), retried: [{ id: String(c?.id), delaySeconds: 0 }] };
    };
    const b = await broker(consumer.url, { queue });
    await b.appendJson(['{"n":0}', '{"n":1}', '{"n":2}']);

    await vi.waitFor(() => expect(consumer.deliveries()).toHaveLength(6), { timeout: 5000 });
    const again = consumer.deliveries().slice(3);
    expect(again.map((d) => [d.body, d.attempts])).toEqual([
      [{ n: 0 }, 2],
      [{ n: 1 }, 2],
      [{ n: 2 }, 2],
    ]);
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
  });

  it("delivers about maxBatchSize bodies at a time however many entries hold them", async () => {
    const queue = newQueue();
    const consumer = await fakeConsumer();
    // The first delivery is answered once all 30 entries are in the stream.
    let appended = () => {};
    const allAppended = new Promise<void>((resolve) => {
      appended = resolve;
    });
    consumer.respond = async (batch) => {
      await allAppended;
      return ackAll(batch);
    };
    const b = await broker(consumer.url, { queue, maxBatchSize: 40 });
    for (let e = 0; e < 30; e++)
      await b.appendJson(Array.from({ length: 5 }, (_, i) => JSON.stringify({ n: e * 5 + i })));
    appended();

    await vi.waitFor(() => expect(consumer.acked.size).toBe(150), { timeout: 10_000 });
    const sizes = consumer.received.map((r) => r.messages.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(40);
    expect(sizes.length).toBeLessThanOrEqual(6);
    expect([...consumer.acked.values()].map((v) => (v as { n: number }).n).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 150 }, (_, n) => n),
    );
    await vi.waitFor(async () => expect(await queueState(queue)).toEqual(empty));
  });
});
