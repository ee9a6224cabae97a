import { describe, expect, it } from "vitest";
import { MissingSettingsError } from "./settings";

describe("MissingSettingsError", () => {
  it("names the worker and every missing setting in one message", () => {
    const error = new MissingSettingsError("edge worker", ["ADMIN_TOKEN", "VISITOR_SALT"]);
    expect(error.message).toBe(
      "edge worker: missing required settings: ADMIN_TOKEN, VISITOR_SALT (see .dev.vars.example)",
    );
    expect(error.missing).toEqual(["ADMIN_TOKEN", "VISITOR_SALT"]);
  });
});
