import { describe, expect, it } from "vitest";
import { isCountryCode } from "./countries";

describe("isCountryCode", () => {
  it("knows the assigned ISO 3166-1 alpha-2 codes and Kosovo", () => {
    for (const code of ["DE", "AT", "US", "GB", "JP", "BR", "ZW", "AX", "SS", "XK"]) {
      expect(isCountryCode(code), code).toBe(true);
    }
  });

  it("refuses user-assigned, reserved and malformed codes", () => {
    for (const code of ["XX", "ZZ", "QQ", "AA", "UK", "EU", "T1", "de", "DEU", "", "D"]) {
      expect(isCountryCode(code), code).toBe(false);
    }
  });
});
