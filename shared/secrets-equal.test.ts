import { describe, expect, it } from "vitest";
import { hasSecret, presentedSecret } from "./secrets-equal";

const h = (headers: Record<string, string>) => new Headers(headers);

describe("presentedSecret", () => {
  it.each([
    ["a bearer token", { Authorization: "Bearer s3cret" }, "s3cret"],
    ["a bearer token, any case and trailing space", { Authorization: "bearer  s3cret " }, "s3cret"],
    ["a scheme other than Bearer", { Authorization: "Basic s3cret" }, null],
    ["Bearer with two words", { Authorization: "Bearer a b" }, null],
    ["no header", {}, null],
    ["X-Api-Key alone, not asked for", { "X-Api-Key": "s3cret" }, null],
  ])("bearer only: %s", (_, headers, expected) => {
    expect(presentedSecret(h(headers))).toBe(expected);
  });

  it.each([
    ["a bearer token", { Authorization: "Bearer s3cret" }, "s3cret"],
    ["X-Api-Key, trimmed", { "X-Api-Key": " s3cret " }, "s3cret"],
    ["a blank X-Api-Key", { "X-Api-Key": "  " }, null],
    ["Authorization first", { Authorization: "Bearer a", "X-Api-Key": "b" }, "a"],
    [
      "a malformed Authorization, not rescued by X-Api-Key",
      { Authorization: "Basic a", "X-Api-Key": "b" },
      null,
    ],
  ])("with apiKey: %s", (_, headers, expected) => {
    expect(presentedSecret(h(headers), { apiKey: true })).toBe(expected);
  });
});

describe("hasSecret", () => {
  it("is true only for the expected secret", async () => {
    expect(await hasSecret(h({ Authorization: "Bearer s3cret" }), "s3cret")).toBe(true);
    expect(await hasSecret(h({ Authorization: "Bearer s3cre7" }), "s3cret")).toBe(false);
    expect(await hasSecret(h({ "X-Api-Key": "s3cret" }), "s3cret")).toBe(false);
    expect(await hasSecret(h({ "X-Api-Key": "s3cret" }), "s3cret", { apiKey: true })).toBe(true);
  });

  it("is false when nothing is expected, whatever is sent", async () => {
    for (const expected of [undefined, null, ""]) {
      expect(await hasSecret(h({ Authorization: "Bearer " }), expected)).toBe(false);
      expect(await hasSecret(h({}), expected, { apiKey: true })).toBe(false);
    }
  });
});
