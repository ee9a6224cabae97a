import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { BulkResultSchema, LinkListSchema, LinkSchema, ProblemSchema } from "../worker/src/schemas/link";
import { LinkStatsSchema } from "../worker/src/schemas/stats";
import {
  arbitraryFor,
  HOSTILE_CHARACTERS,
  hasHostileCharacter,
  type JsonSchema,
  withHostileCharacter,
} from "./schema-arbitrary";
import { type Stack, startStack } from "./stack";

/**
 * Property-based fuzz of the API, with request bodies and queries generated from the
 * schemas in /openapi.json. No answer may be a 5xx, every status must be one the
 * document lists for the operation, and every body must match its documented schema.
 * A request with a control character or lone surrogate in any string must be a 400.
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
  // The `domain` fields' documented example: generated requests name it as well as random hosts.
  expect((await stack.api("POST", "/domains", { name: "acme.link" })).status).toBe(201);
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

/** Any string anywhere in a JSON value with a character the API never accepts. */
function hostile(value: unknown): boolean {
  if (typeof value === "string") return hasHostileCharacter(value);
  if (Array.isArray(value)) return value.some(hostile);
  if (value && typeof value === "object") return Object.values(value).some(hostile);
  return false;
}

/** The query values as the server decodes them (URLSearchParams already turned lone surrogates into U+FFFD). */
const hostileQuery = (path: string) =>
  [...new URL(path, "https://x").searchParams.values()].some(hasHostileCharacter);

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
  const bulkItems = docPath.endsWith("/bulk") && Array.isArray(body) && res.status === 200;
  if (!bulkItems && (hostile(body) || hostileQuery(path))) expect(res.status, context).toBe(400);
  if (bulkItems) {
    const { results } = JSON.parse(text) as { results: { status: number }[] };
    body.forEach((item, i) => {
      if (hostile(item)) expect(results[i]?.status, `item ${i}: ${context}`).toBe(400);
    });
  }
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
      // Every field of the body and the id must be valid at once for a 2xx: with the domain field that took more cases.
      { ...params, numRuns: RUNS * 3 },
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

/** The string fields of a request body schema, found in the document: a new field is covered without listing it. */
type StringField = { name: string; array: boolean };

function stringFields(schema: JsonSchema): StringField[] {
  const resolve = (s: JsonSchema): JsonSchema =>
    s.$ref ? resolve(doc.components?.schemas?.[s.$ref.split("/").pop() as string] ?? {}) : s;
  const isString = (s: JsonSchema): boolean => {
    const r = resolve(s);
    const types = Array.isArray(r.type) ? r.type : [r.type];
    return types.includes("string") || (r.anyOf ?? []).some(isString);
  };
  return Object.entries(resolve(schema).properties ?? {}).flatMap(([name, s]): StringField[] => {
    const r = resolve(s);
    if (isString(r)) return [{ name, array: false }];
    if (r.type === "array" && r.items && isString(r.items)) return [{ name, array: true }];
    return [];
  });
}

describe("every string field and query parameter refuses control characters and lone surrogates", () => {
  const bodies: Array<[method: string, docPath: string, path: string, base: Record<string, unknown>]> = [
    ["post", "/api/v1/links", "/links", { url: "https://example.com/base" }],
    ["patch", "/api/v1/links/{slug}", `/links/${existing}`, { statusCode: 302 }],
    [
      "put",
      "/api/v1/links/external/{externalId}",
      "/links/external/hostile-1",
      { url: "https://example.com/b" },
    ],
    ["post", "/api/v1/keys", "/keys", { name: "fuzz", scopes: ["links:read"] }],
  ];

  it.each(bodies)(
    "%s %s",
    async (method, docPath, path, base) => {
      const schema = operation(docPath, method).requestBody?.content["application/json"]?.schema ?? {};
      const fields = stringFields(schema);
      expect(fields.length).toBeGreaterThan(0);
      // The base body alone is accepted, so each 400 below is the hostile field's.
      const accepted = await stack.api(method.toUpperCase(), path, base);
      seen.push(accepted.status);
      expect(accepted.status, await accepted.text()).toBeLessThan(300);
      const value = withHostileCharacter(fc.string({ maxLength: 12 }));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields), value, async (field, text) => {
          const res = await stack.api(method.toUpperCase(), path, {
            ...base,
            [field.name]: field.array ? [text] : text,
          });
          seen.push(res.status);
          const answer = await res.text();
          expect(res.status, `${field.name}: ${JSON.stringify(text)} → ${answer.slice(0, 300)}`).toBe(400);
          const paths = (JSON.parse(answer) as { errors?: { path: string }[] }).errors?.map((e) => e.path);
          expect(paths).toContain(field.array ? `${field.name}.0` : field.name);
        }),
        { ...params, numRuns: Math.ceil(RUNS / 4) },
      );
    },
    120_000,
  );

  const queries: Array<[docPath: string, path: string]> = [
    ["/api/v1/links", "/links"],
    ["/api/v1/links/{slug}/stats", `/links/${existing}/stats`],
  ];

  it.each(queries)(
    "GET %s",
    async (docPath, path) => {
      const names = (operation(docPath, "get").parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => p.name);
      expect(names.length).toBeGreaterThan(0);
      seen.push((await stack.api("GET", path)).status);
      // A URL cannot carry a lone surrogate (its percent-encoded bytes are not UTF-8): controls only.
      const controls = HOSTILE_CHARACTERS.filter((ch) => ch.charCodeAt(0) < 0xd800);
      const value = withHostileCharacter(fc.string({ maxLength: 12 }), controls);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...names), value, async (name, text) => {
          const res = await stack.api("GET", `${path}?${new URLSearchParams({ [name]: text })}`);
          seen.push(res.status);
          const answer = await res.text();
          expect(res.status, `${name}: ${JSON.stringify(text)} → ${answer.slice(0, 300)}`).toBe(400);
          const paths = (JSON.parse(answer) as { errors?: { path: string }[] }).errors?.map((e) => e.path);
          expect(paths).toContain(name);
        }),
        { ...params, numRuns: Math.ceil(RUNS / 4) },
      );
    },
    120_000,
  );
});
