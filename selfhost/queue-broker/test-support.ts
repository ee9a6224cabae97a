/**
 * Fixtures of the queue broker's tests (selfhost/queue-broker.test.ts, queue-broker/delivery.test.ts): one
 * real Redis per file, a fresh queue per test, and a fake aggregator push endpoint that answers as told.
 * `redis` and `redisServer` are set by `useQueueBrokerFixtures()`'s beforeAll.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import IORedis from "ioredis";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type QueueBroker, startQueueBroker } from "../queue-broker";
import { readBody } from "../services/http";
import { type RedisServer, startRedis } from "../services/redis";

export const TOKEN = "push-token";
/** What producers and operators must present to the broker itself. */
export const BROKER_TOKEN = "broker-token";
/** `init` with the broker's token, as the runner, the shipper and workerd's binding send it. */
export const withToken = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${BROKER_TOKEN}` },
});
export const GROUP = "aggregator";

export type Delivery = { id: string; body: unknown; attempts: number; timestamp: number };
export type Batch = { messages: Delivery[]; backlog: Record<string, number>; lagSeconds: number };
export type Answer = { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };
/** What the fake consumer does with a batch: answer, fail with a status, or never answer. */
export type Reply = Answer | { status: number } | "hang";
export type FakeConsumer = {
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

export let redisServer: RedisServer;
export let redis: IORedis;
const brokers: QueueBroker[] = [];
const consumers: FakeConsumer[] = [];
let queues = 0;

/** One Redis for the file, and the brokers and fake consumers of each test closed after it. */
export function useQueueBrokerFixtures(): void {
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
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const ackAll = (batch: Batch): Answer => ({ acked: batch.messages.map((m) => m.id), retried: [] });
/** A fresh queue per test, so the tests share one Redis without seeing each other's streams. */
export const newQueue = () => `t${++queues}-${Date.now()}`;

/** The aggregator's push endpoint, as a test double: records every batch and answers as `respond` says. */
export async function fakeConsumer(): Promise<FakeConsumer> {
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

export async function broker(
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

export const sendMessage = (b: QueueBroker, body: unknown) =>
  fetch(
    `${b.url}/message`,
    withToken({
      method: "POST",
      headers: { "X-Msg-Fmt": "json", "Content-Type": "application/octet-stream" },
      body: JSON.stringify(body),
    }),
  );
export const sendBatch = (b: QueueBroker, messages: Array<{ body: string; contentType: string }>) =>
  fetch(`${b.url}/batch`, withToken({ method: "POST", body: JSON.stringify({ messages }) }));
export const jsonMessage = (value: unknown) => ({
  body: Buffer.from(JSON.stringify(value)).toString("base64"),
  contentType: "json",
});

/** What Redis holds for a queue: entries in the stream, deliveries pending, dead letters. */
export async function queueState(queue: string) {
  const summary = (await redis.xpending(`q:${queue}`, GROUP)) as [number];
  return {
    length: await redis.xlen(`q:${queue}`),
    pending: Number(summary[0]),
    dead: await redis.xlen(`q:${queue}-dlq`),
  };
}
export const empty = { length: 0, pending: 0, dead: 0 };

export function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}
