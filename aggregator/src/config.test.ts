import { describe, expect, it } from "vitest";
import { readConfig } from "./config";
import type { AggregatorEnv } from "./env";

const REQUIRED: AggregatorEnv = {
  DATABASE_URL: "postgres://db.example/app",
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "redis-token",
};

describe("readConfig (aggregator)", () => {
  it("reads the database entry and Redis, with no token and no broker routes by default", () => {
    expect(readConfig(REQUIRED)).toEqual({
      database: {
        url: "postgres://db.example/app",
        wsProxy: undefined,
        connectTimeoutMs: { standard: 5000, kvMiss: 2000, probe: 1000 },
      },
      redis: { url: "https://redis.example", token: "redis-token" },
      metricsToken: null,
      queuePushToken: null,
      missing: [],
    });
  });

  it("names every missing required value, unset or empty, in one list", () => {
    expect(readConfig({} as AggregatorEnv).missing).toEqual([
      "DATABASE_URL",
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
    ]);
    expect(readConfig({ ...REQUIRED, UPSTASH_REDIS_REST_TOKEN: "" }).missing).toEqual([
      "UPSTASH_REDIS_REST_TOKEN",
    ]);
  });

  it("requires METRICS_TOKEN in self-host, where the broker pushes with QUEUE_PUSH_TOKEN", () => {
    expect(readConfig({ ...REQUIRED, QUEUE_PUSH_TOKEN: "q" })).toMatchObject({
      queuePushToken: "q",
      missing: ["METRICS_TOKEN"],
    });
    expect(readConfig({ ...REQUIRED, QUEUE_PUSH_TOKEN: "q", METRICS_TOKEN: "m" })).toMatchObject({
      metricsToken: "m",
      missing: [],
    });
  });
});
