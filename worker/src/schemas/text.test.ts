import { describe, expect, it } from "vitest";
import { text, unsafeCharacter } from "./text";

describe("unsafeCharacter", () => {
  it.each([
    ["a\u0000b", "the control character U+0000"],
    ["tab\there", "the control character U+0009"],
    ["line\n", "the control character U+000A"],
    ["\r", "the control character U+000D"],
    ["esc\u001b[0m", "the control character U+001B"],
    ["del\u007f", "the control character U+007F"],
    ["next line\u0085", "the control character U+0085"],
    ["\ud800", "the lone surrogate U+D800"],
    ["x\udbffy", "the lone surrogate U+DBFF"],
    ["\udc00", "the lone surrogate U+DC00"],
    ["pair reversed \udfff\ud83d", "the lone surrogate U+DFFF"],
    ["high at the end \ud83d", "the lone surrogate U+D83D"],
  ])("refuses %j: %s", (value, found) => {
    expect(unsafeCharacter(value)).toBe(found);
  });

  it.each(["", "plain", "café", "emoji 🔥 pair", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "space and ~!@#", "\u00a0nbsp", "\u200b"])(
    "accepts %j",
    (value) => {
      expect(unsafeCharacter(value)).toBeNull();
    },
  );
});

describe("text()", () => {
  it("refuses at the field's path and keeps the other checks", () => {
    const result = text().max(3).safeParse("abc\u0000");
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      "must not contain the control character U+0000",
      expect.stringContaining("<=3"),
    ]);
  });
});
