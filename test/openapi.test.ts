import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../worker/src/app";
import { type Stack, startStack } from "./stack";

let stack: Stack;
let doc: { openapi: string; paths: Record<string, Record<string, unknown>> };
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
  doc = (await (await stack.fetch("/openapi.json")).json()) as typeof doc;
});
afterAll(() => stack?.close());

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it("documents every API route the app serves", () => {
    const served = new Set(
      createApp()
        .routes.filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "")}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method} ${path.replace(/\/$/, "")}`),
      ),
    );
    expect(served.size).toBeGreaterThanOrEqual(12);
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });
});
