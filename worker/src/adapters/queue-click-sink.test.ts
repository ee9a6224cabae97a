import type { ClickEvent } from "@shared/events";
import { describe, expect, it, vi } from "vitest";
import { QueueClickSink } from "./queue-click-sink";

/**
 * A Queue binding whose sends finish when the test says so: the batching order is what
 * is under test here. That the batches reach a real queue from real workerd request
 * contexts is tested in test/redirect.test.ts and test/pipeline.test.ts.
 */
function heldQueue() {
  const calls: Array<{ ids: string[]; finish: (err?: Error) => void }> = [];
  const hold = (ids: string[]) =>
    new Promise<void>((resolve, reject) =>
      calls.push({ ids, finish: (err) => (err ? reject(err) : resolve()) }),
    );
  const queue = {
    send: (e: ClickEvent) => hold([e.id]),
    sendBatch: (batch: Iterable<MessageSendRequest<ClickEvent>>) => hold([...batch].map((m) => m.body.id)),
  } as unknown as Queue<ClickEvent>;
  return { queue, calls };
}

const click = (id: string) => ({ id }) as ClickEvent;
/** Lets the waiting callers poll (every 1 ms) a few times. */
const tick = () => new Promise((r) => setTimeout(r, 10));

describe("QueueClickSink (group commit)", () => {
  it("sends a lone click at once, and gathers the clicks that arrive meanwhile into one batch", async () => {
    const { queue, calls } = heldQueue();
    const sizes: number[] = [];
    const sink = new QueueClickSink(queue, (n) => sizes.push(n));
    const settled: string[] = [];
    const send = (id: string) => sink.send(click(id)).then(() => settled.push(id));

    const all = ["a", "b", "c", "d"].map(send);
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([["a"]]);

    calls[0]?.finish();
    await tick();
    // b, c and d waited for a's send, not for each other; a's request sends them.
    expect(calls.map((c) => c.ids)).toEqual([["a"], ["b", "c", "d"]]);
    expect(settled).toEqual([]);

    calls[1]?.finish();
    await Promise.all(all);
    expect(settled.sort()).toEqual(["a", "b", "c", "d"]);
    expect(sizes).toEqual([1, 3]);

    // Idle again: the next click goes alone and at once.
    const later = send("e");
    await tick();
    expect(calls[2]?.ids).toEqual(["e"]);
    calls[2]?.finish();
    await later;
  });

  it("fails every click of a failed batch, and carries on with the next one", async () => {
    const { queue, calls } = heldQueue();
    const sink = new QueueClickSink(queue);
    const outcome = (id: string) =>
      sink.send(click(id)).then(
        () => `${id}:ok`,
        (err: Error) => `${id}:${err.message}`,
      );
    const a = outcome("a");
    const b = outcome("b");
    const c = outcome("c");
    await tick();
    calls[0]?.finish();
    await tick();
    const d = outcome("d"); // arrives while b+c are in flight
    calls[1]?.finish(new Error("queue down"));
    await tick();
    expect(calls[2]?.ids).toEqual(["d"]);
    calls[2]?.finish();
    expect(await Promise.all([a, b, c, d])).toEqual(["a:ok", "b:queue down", "c:queue down", "d:ok"]);
  });

  it("never puts more than 100 clicks in one send", async () => {
    const { queue, calls } = heldQueue();
    const sink = new QueueClickSink(queue);
    const all = Array.from({ length: 251 }, (_, i) => sink.send(click(String(i))));
    await tick();
    for (let i = 0; i < 4; i++) {
      calls[i]?.finish();
      await tick();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.ids.length)).toEqual([1, 100, 100, 50]);
    expect(new Set(calls.flatMap((c) => c.ids)).size).toBe(251);
  });

  it("takes over from a send stuck for 10 s, and gives the stuck clicks up after 15 s", async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const { queue, calls } = heldQueue();
      const sink = new QueueClickSink(queue);
      const outcome = (id: string) =>
        sink.send(click(id)).then(
          () => `${id}:ok`,
          (err: Error) => `${id}:${err.message}`,
        );
      void outcome("a");
      const b = outcome("b");
      const c = outcome("c");
      await vi.advanceTimersByTimeAsync(0);
      calls[0]?.finish();
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.map((x) => x.ids)).toEqual([["a"], ["b", "c"]]); // never finishes: a cancelled request

      await vi.advanceTimersByTimeAsync(12_000);
      const d = outcome("d");
      await vi.advanceTimersByTimeAsync(0);
      expect(calls[2]?.ids).toEqual(["d"]);
      calls[2]?.finish();
      expect(await d).toBe("d:ok");

      await vi.advanceTimersByTimeAsync(3_100);
      expect(await Promise.all([b, c])).toEqual(["b:click event not sent in time", "c:click event not sent in time"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
