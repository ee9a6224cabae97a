import { PassThrough } from "node:stream";
import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLICK_LINE_PREFIX } from "../shared/click-line";
import { postToBroker, RefusedBatch, shipClicks, shipperMetrics } from "./click-shipper";
import { type QueueBroker, startQueueBroker } from "./queue-broker";
import { type RedisServer, startRedis } from "./services/redis";

let redisServer: RedisServer;
let redis: IORedis;
let broker: QueueBroker;
const QUEUE = "shipper-test";
const BROKER_TOKEN = "broker-token";

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new IORedis(redisServer.url);
  // No consumer listens: the messages stay in the stream for the tests to read.
  broker = await startQueueBroker({
    redisUrl: redisServer.url,
    queue: QUEUE,
    consumerUrl: "http://127.0.0.1:9/none",
    consumerToken: "t",
    token: BROKER_TOKEN,
  });
});
afterAll(async () => {
  await broker?.close();
  redis?.disconnect();
  await redisServer?.dispose();
});

/** Bodies in the broker's stream whose `n` belongs to `run`, in stream order (a batch entry holds one per line). */
async function stored(run: string): Promise<number[]> {
  const entries = (await redis.xrange(`q:${QUEUE}`, "-", "+")) as Array<[string, string[]]>;
  return entries
    .flatMap(([, fields]) => (fields[fields.indexOf("body") + 1] as string).split("\n"))
    .map((body) => JSON.parse(body))
    .filter((b) => b.run === run)
    .map((b) => b.n);
}

const line = (run: string, n: number) =>
  `${CLICK_LINE_PREFIX}${JSON.stringify({ run, n, ua: "Ünïcode ✓" })}\n`;

function harness(deliver: (bodies: string[]) => Promise<void>, maxPendingBytes?: number) {
  const input = new PassThrough();
  const log: string[] = [];
  const passthrough = new PassThrough();
  passthrough.on("data", (chunk: Buffer) => log.push(...chunk.toString().split("\n").filter(Boolean)));
  const shipper = shipClicks({ input, passthrough, deliver, maxBatch: 7, maxPendingBytes });
  return { input, log, shipper };
}

describe("shipClicks", () => {
  it("ships every click line in order however the pipe cuts it, and passes other lines on", async () => {
    const run = crypto.randomUUID();
    const { input, log, shipper } = harness(broker.appendJson);
    const text = `${Array.from({ length: 50 }, (_, n) => line(run, n)).join("")}workerd: a log line\n`;
    // Cut at arbitrary byte offsets, also inside multi-byte characters.
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 37) input.write(bytes.subarray(i, i + 37));
    input.end();
    await shipper.drained(5000);
    expect(await stored(run)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(log).toEqual(["workerd: a log line"]);
    expect([shipper.shipped, shipper.dropped, shipper.pending]).toEqual([50, 0, 0]);
  });

  it("keeps a last line without its newline, drops one cut mid-JSON (a replica killed mid-write)", async () => {
    const run = crypto.randomUUID();
    const whole = harness(broker.appendJson);
    whole.input.end(line(run, 1).trimEnd());
    await whole.shipper.drained(5000);
    const cut = harness(broker.appendJson);
    cut.input.end(line(run, 2).slice(0, 20));
    await cut.shipper.drained(5000);
    expect(await stored(run)).toEqual([1]);
    expect(cut.shipper.dropped).toBe(1);
  });

  it("drops a whole line that is not an object (never spliced into a delivery)", async () => {
    const run = crypto.randomUUID();
    const { input, shipper } = harness(broker.appendJson);
    input.end(`${line(run, 1)}@click not json\n@click {"cut":\n${line(run, 2)}`);
    await shipper.drained(5000);
    expect(await stored(run)).toEqual([1, 2]);
    expect(shipper.dropped).toBe(2);
  });

  it("holds clicks while the broker is down and ships each once when it is back", async () => {
    const run = crypto.randomUUID();
    let down = true;
    let refused = 0;
    const { input, shipper } = harness(async (bodies) => {
      if (down) {
        refused++;
        throw new Error("connection refused");
      }
      await broker.appendJson(bodies);
    });
    for (let n = 0; n < 20; n++) input.write(line(run, n));
    await new Promise((r) => setTimeout(r, 400));
    expect(refused).toBeGreaterThan(1);
    expect(shipper.pending).toBe(20);
    down = false;
    input.end();
    await shipper.drained(10_000);
    expect(await stored(run)).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it("drops and counts clicks past its memory cap instead of blocking the replica", async () => {
    const run = crypto.randomUUID();
    let down = true;
    const bodyBytes = line(run, 0).length - CLICK_LINE_PREFIX.length - 1;
    const { input, shipper } = harness(async (bodies) => {
      if (down) throw new Error("connection refused");
      await broker.appendJson(bodies);
    }, 5 * bodyBytes);
    for (let n = 0; n < 8; n++) input.write(line(run, n));
    await new Promise((r) => setTimeout(r, 50));
    expect([shipper.pending, shipper.dropped]).toEqual([5, 3]);
    down = false;
    input.end();
    await shipper.drained(10_000);
    expect(await stored(run)).toEqual([0, 1, 2, 3, 4]);
  });

  it("posts to a broker over HTTP (Compose) and drops a batch the broker refuses", async () => {
    const run = crypto.randomUUID();
    const { input, shipper } = harness(postToBroker(broker.url, BROKER_TOKEN));
    input.end(line(run, 7));
    await shipper.drained(5000);
    expect(await stored(run)).toEqual([7]);
    await expect(postToBroker(broker.url, BROKER_TOKEN)(["{not json"])).rejects.toBeInstanceOf(RefusedBatch);
  });

  it("reports a drain that timed out, and counts what it gives up at stop as dropped", async () => {
    const run = crypto.randomUUID();
    const logged: string[] = [];
    const input = new PassThrough();
    const shipper = shipClicks({
      input,
      passthrough: new PassThrough(),
      deliver: async () => {
        throw new Error("connection refused");
      },
      log: (l) => logged.push(l),
    });
    input.end(line(run, 1) + line(run, 2));
    expect(await shipper.drained(300)).toBe(false);
    shipper.stop();
    expect([shipper.pending, shipper.dropped]).toEqual([0, 2]);
    expect(logged.some((l) => l.includes("2 clicks not shipped"))).toBe(true);
    expect(await shipper.drained(1000)).toBe(true);
  });
});

describe("shipperMetrics", () => {
  it("renders each replica's counters as Prometheus text", () => {
    const text = shipperMetrics([
      { replica: "edge-1", stats: { pending: 3, shipped: 10, dropped: 0 } },
      { replica: "edge-2", stats: { pending: 0, shipped: 7, dropped: 2 } },
    ]);
    expect(text).toContain('edge_click_shipper_pending{replica="edge-1"} 3\n');
    expect(text).toContain('edge_click_shipper_shipped_total{replica="edge-2"} 7\n');
    expect(text).toContain('edge_click_shipper_dropped_total{replica="edge-2"} 2\n');
    expect(text).toContain("# TYPE edge_click_shipper_dropped_total counter");
  });
});
