import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { BulkResultSchema, LinkListSchema, LinkSchema, ProblemSchema } from "../worker/src/schemas/link";
import { LinkStatsSchema } from "../worker/src/schemas/stats";
import { arbitraryFor, type JsonSchema } from "./schema-arbitrary";
import { type Stack, startStack } from "./stack";

/**
 * Property-based fuzz of the API, with request bodies and queries generated from the
 * schemas in /openapi.json. No answer may be a 5xx, every status must be one the
 * document lists for the operation, and every body must match its documented schema.
 * FUZZ_SEED and FUZZ_RUNS override the fixed seed and the number of cases per route.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

type Operation = {
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  parameters?: Array<{ name: string; in: string; schema: JsonSchema }>;
  responses: Record<string, unknown>;
};
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

let stack: Stack;
let doc: Doc;
const existing = `fuzz-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
  doc = (await (await stack.fetch("/openapi.json")).json()) as Doc;
  expect(
    (await stack.api("POST", "/links", { url: "https://example.com/fuzz", slug: existing })).status,
  ).toBe(201);
});
afterAll(() => stack?.close());

function operation(path: string, method: string): Operation {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
}

const bodyArbitrary = (op: Operation) =>
  arbitraryFor(op.requestBody?.content["application/json"]?.schema ?? {}, doc);

function queryArbitrary(op: Operation): fc.Arbitrary<string> {
  const params = (op.parameters ?? []).filter((p) => p.in === "query");
  const record = Object.fromEntries(params.map((p) => [p.name, arbitraryFor(p.schema, doc)]));
  return fc.record(record, { requiredKeys: [] }).map((q) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) search.set(k, typeof v === "string" ? v : JSON.stringify(v));
    return search.size ? `?${search}` : "";
  });
}

/** Statuses seen per test, so each test can show it reached both the handlers and the validation. */
let seen: number[] = [];
beforeEach(() => {
  seen = [];
});
afterEach(() => {
  expect(
    seen.some((s) => s < 300),
    "no generated request succeeded",
  ).toBe(true);
  expect(
    seen.some((s) => s >= 400),
    "no generated request was refused",
  ).toBe(true);
});

async function check(method: string, docPath: string, path: string, body: unknown, ok: ZodType | null) {
  const res = await stack.api(
    method.toUpperCase(),
    path,
    body === undefined ? undefined : JSON.stringify(body),
  );
  seen.push(res.status);
  const text = await res.text();
  const context = `${method} ${path} ${JSON.stringify(body)?.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(Object.keys(operation(docPath, method).responses), context).toContain(String(res.status));
  if (res.status === 204) return;
  const json = JSON.parse(text);
  const schema = res.status < 300 ? ok : ProblemSchema;
  if (schema) expect(schema.safeParse(json).success, context).toBe(true);
}

const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };

describe(`API fuzz (seed ${SEED}, ${RUNS} cases per route)`, () => {
  it("POST /api/v1/links", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(operation("/api/v1/links", "post")), (body) =>
        check("post", "/api/v1/links", "/links", body, LinkSchema),
      ),
      params,
    );
  }, 120_000);

  it("PATCH /api/v1/links/{slug}", async () => {
    const op = operation("/api/v1/links/{slug}", "patch");
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(op), (body) =>
        check("patch", "/api/v1/links/{slug}", `/links/${existing}`, body, LinkSchema),
      ),
      params,
    );
  }, 120_000);

  it("POST /api/v1/links/bulk", async () => {
    const item = arbitraryFor({ $ref: "#/components/schemas/CreateLink" }, doc);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.array(item, { maxLength: 5 }), bodyArbitrary(operation("/api/v1/links/bulk", "post"))),
        (body) => check("post", "/api/v1/links/bulk", "/links/bulk", body, BulkResultSchema),
      ),
      { ...params, numRuns: Math.ceil(RUNS / 2) },
    );
  }, 120_000);

  it("PUT /api/v1/links/external/{externalId}", async () => {
    const op = operation("/api/v1/links/external/{externalId}", "put");
    // "." and ".." are dot segments: the URL itself then names another route.
    const id = fc
      .oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), fc.string({ minLength: 1, maxLength: 20 }))
      .filter((s) => s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(id, bodyArbitrary(op), (externalId, body) =>
        check(
          "put",
          "/api/v1/links/external/{externalId}",
          `/links/external/${encodeURIComponent(externalId)}`,
          body,
          LinkSchema,
        ),
      ),
      params,
    );
  }, 120_000);

  it("GET /api/v1/links", async () => {
    await fc.assert(
      fc.asyncProperty(queryArbitrary(operation("/api/v1/links", "get")), (q) =>
        check("get", "/api/v1/links", `/links${q}`, undefined, LinkListSchema),
      ),
      params,
    );
  }, 120_000);

  it("GET /api/v1/links/{slug}/stats", async () => {
    const op = operation("/api/v1/links/{slug}/stats", "get");
    await fc.assert(
      fc.asyncProperty(queryArbitrary(op), (q) =>
        check(
          "get",
          "/api/v1/links/{slug}/stats",
          `/links/${existing}/stats${q}`,
          undefined,
          LinkStatsSchema,
        ),
      ),
      params,
    );
  }, 120_000);
});
