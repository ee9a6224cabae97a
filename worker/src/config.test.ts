import { describe, expect, it } from "vitest";
import { readConfig } from "./config";
import type { Env } from "./env";

/** Every required value set; each test adds or removes what it is about. */
const REQUIRED: Partial<Env> = {
  ADMIN_TOKEN: "admin",
  DATABASE_URL: "postgres://db.example/app",
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "redis-token",
  VISITOR_SALT: "salt",
};
const configOf = (vars: Partial<Env>) => readConfig({ ...REQUIRED, ...vars } as Env);

describe("readConfig", () => {
  it("gives every optional setting its documented default", () => {
    const config = configOf({});
    expect(config).toMatchObject({
      redis: { url: "https://redis.example", token: "redis-token", timeoutMs: 150 },
      adminToken: "admin",
      visitorSalt: "salt",
      metricsToken: null,
      healthDetailedPublic: false,
      rateLimitPerSecond: { strict: 10, api: 100, key: 1000 },
      clickSink: "queue",
      kvCacheTtl: 60,
      linkCacheMs: 5000,
      dbFallbackTimeoutMs: 1500,
      negativeCacheSeconds: 10,
      kvMissFallback: "postgres",
      kvMissFallbackPerSecond: 10,
      publicBaseUrl: null,
      publicHost: null,
      defaultHost: null,
      unknownHosts: "default",
      domainTableRefreshMs: 5000,
      corsOrigins: [],
      trustRequestId: false,
      allowPrivateTargets: false,
      clientIpHeader: null,
      countryHeader: null,
      missing: [],
    });
  });

  it("holds one database entry: the URL, the proxy, and a connect timeout per use", () => {
    expect(configOf({ DB_WS_PROXY: "127.0.0.1:5433/v2/t" }).database).toEqual({
      url: "postgres://db.example/app",
      wsProxy: "127.0.0.1:5433/v2/t",
      connectTimeoutMs: { standard: 5000, kvMiss: 2000, probe: 1000 },
    });
  });

  it("reads whole numbers, surrounding blanks allowed", () => {
    const config = configOf({
      REDIS_TIMEOUT_MS: " 80 ",
      RATE_LIMIT_STRICT_PER_SECOND: "3",
      RATE_LIMIT_API_PER_SECOND: "40",
      RATE_LIMIT_KEY_PER_SECOND: "500",
      KV_CACHE_TTL: "30",
      LINK_CACHE_SECONDS: "0",
      DB_FALLBACK_TIMEOUT_MS: "900",
      KV_MISS_FALLBACK_PER_SECOND: "0",
    });
    expect(config).toMatchObject({
      redis: { timeoutMs: 80 },
      rateLimitPerSecond: { strict: 3, api: 40, key: 500 },
      kvCacheTtl: 30,
      linkCacheMs: 0,
      dbFallbackTimeoutMs: 900,
      kvMissFallbackPerSecond: 0,
    });
  });

  // One rule for every number: not a whole number as a whole, or below its minimum, is the default.
  const numbers: Array<[keyof Env, (c: ReturnType<typeof configOf>) => number, number, string]> = [
    ["REDIS_TIMEOUT_MS", (c) => c.redis.timeoutMs, 150, "0"],
    ["RATE_LIMIT_STRICT_PER_SECOND", (c) => c.rateLimitPerSecond.strict, 10, "0"],
    ["RATE_LIMIT_API_PER_SECOND", (c) => c.rateLimitPerSecond.api, 100, "0"],
    ["RATE_LIMIT_KEY_PER_SECOND", (c) => c.rateLimitPerSecond.key, 1000, "0"],
    ["KV_CACHE_TTL", (c) => c.kvCacheTtl, 60, "29"],
    ["LINK_CACHE_SECONDS", (c) => c.linkCacheMs / 1000, 5, "-1"],
    ["DB_FALLBACK_TIMEOUT_MS", (c) => c.dbFallbackTimeoutMs, 1500, "0"],
    ["KV_MISS_FALLBACK_PER_SECOND", (c) => c.kvMissFallbackPerSecond, 10, "-1"],
  ];
  for (const [name, read, fallback, belowMin] of numbers) {
    it(`falls back to ${fallback} for a ${name} that is not a whole number at least its minimum`, () => {
      for (const bad of ["", "  ", "abc", "12abc", "5s", "1.5", belowMin]) {
        expect(read(configOf({ [name]: bad })), `${name}=${JSON.stringify(bad)}`).toBe(fallback);
      }
    });
  }

  it("turns a flag on only for the exact word true", () => {
    const on = configOf({
      HEALTH_DETAILED_PUBLIC: "true",
      TRUST_REQUEST_ID: "true",
      ALLOW_PRIVATE_TARGETS: "true",
    });
    expect(on).toMatchObject({ healthDetailedPublic: true, trustRequestId: true, allowPrivateTargets: true });
    const off = configOf({
      HEALTH_DETAILED_PUBLIC: "yes",
      TRUST_REQUEST_ID: "1",
      ALLOW_PRIVATE_TARGETS: "TRUE",
    });
    expect(off).toMatchObject({
      healthDetailedPublic: false,
      trustRequestId: false,
      allowPrivateTargets: false,
    });
  });

  it("keeps the Postgres fallback for anything but none, so a typo cannot turn new links into 404s", () => {
    expect(configOf({ KV_MISS_FALLBACK: " None " }).kvMissFallback).toBe("none");
    expect(configOf({ KV_MISS_FALLBACK: "nope" }).kvMissFallback).toBe("postgres");
  });

  it("writes clicks to stdout only when CLICK_SINK is stdout", () => {
    expect(configOf({ CLICK_SINK: "stdout", METRICS_TOKEN: "m" }).clickSink).toBe("stdout");
    expect(configOf({ CLICK_SINK: "queue" }).clickSink).toBe("queue");
    expect(configOf({ CLICK_SINK: "STDOUT" }).clickSink).toBe("queue");
  });

  it("normalizes the public base URL, the trusted headers and the CORS origins", () => {
    const config = configOf({
      PUBLIC_BASE_URL: "https://Sho.rt//",
      CLIENT_IP_HEADER: " X-Real-IP ",
      COUNTRY_HEADER: "X-Country",
      CORS_ORIGINS: " https://a.example, ,https://b.example ",
    });
    expect(config).toMatchObject({
      publicBaseUrl: "https://Sho.rt",
      publicHost: "sho.rt",
      clientIpHeader: "x-real-ip",
      countryHeader: "x-country",
      corsOrigins: ["https://a.example", "https://b.example"],
    });
    expect(configOf({ CLIENT_IP_HEADER: "  " }).clientIpHeader).toBeNull();
  });

  it("takes the default domain from PUBLIC_BASE_URL, normalized, with a port other than 80 or 443", () => {
    expect(configOf({ PUBLIC_BASE_URL: "https://Sho.rt./" }).defaultHost).toBe("sho.rt");
    expect(configOf({ PUBLIC_BASE_URL: "http://sho.rt:8080" }).defaultHost).toBe("sho.rt:8080");
    expect(configOf({ PUBLIC_BASE_URL: "https://bücher.example:443" }).defaultHost).toBe(
      "xn--bcher-kva.example",
    );
  });

  it("answers unknown hosts with a 404 only when UNKNOWN_HOSTS says not-found", () => {
    expect(configOf({ UNKNOWN_HOSTS: " Not-Found " }).unknownHosts).toBe("not-found");
    expect(configOf({ UNKNOWN_HOSTS: "reject" }).unknownHosts).toBe("default");
  });

  it("throws for a PUBLIC_BASE_URL that is not a URL", () => {
    expect(() => configOf({ PUBLIC_BASE_URL: "sho.rt" })).toThrow();
  });

  it("names every missing required value, unset or empty, in one list", () => {
    expect(readConfig({} as Env).missing).toEqual([
      "ADMIN_TOKEN",
      "DATABASE_URL",
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "VISITOR_SALT",
    ]);
    expect(configOf({ VISITOR_SALT: "" })).toMatchObject({ visitorSalt: null, missing: ["VISITOR_SALT"] });
    expect(configOf({ ADMIN_TOKEN: "" })).toMatchObject({ adminToken: null, missing: ["ADMIN_TOKEN"] });
  });

  it("requires METRICS_TOKEN in self-host (clicks on stdout) only", () => {
    expect(configOf({ CLICK_SINK: "stdout" }).missing).toEqual(["METRICS_TOKEN"]);
    expect(configOf({ CLICK_SINK: "stdout", METRICS_TOKEN: "m" })).toMatchObject({
      metricsToken: "m",
      missing: [],
    });
    expect(configOf({}).missing).toEqual([]);
  });
});
