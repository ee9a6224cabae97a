import { describe, expect, it } from "vitest";
import { StatsQuerySchema } from "./stats";

const issuesOf = (query: Record<string, string>) => {
  const result = StatsQuerySchema.safeParse(query);
  return result.success ? [] : result.error.issues.map((i) => i.path.join("."));
};

describe("StatsQuerySchema date bounds", () => {
  it.each([
    ["to in year 0", { to: "0000-01-01" }, "to"],
    ["to in year 0 with a positive offset (year -1 in UTC)", { to: "0000-01-01T00:00:00+14:00" }, "to"],
    ["the default from before 1970", { to: "1970-01-02" }, "from"],
    ["from in year 0", { from: "0000-01-01", to: "1970-01-02" }, "from"],
    ["from before 1970", { from: "1969-12-31T23:59:59Z", to: "1970-01-02" }, "from"],
    ["to past 9999 in UTC", { from: "9999-12-31", to: "9999-12-31T23:00:00-12:00" }, "to"],
  ])("refuses %s, naming the field", (_, query, field) => {
    expect(issuesOf(query)).toEqual([field]);
  });

  it.each([
    ["the first instant of 1970 as from", { from: "1970-01-01T00:00:00Z", to: "1970-01-02" }],
    ["a default from of exactly 1970-01-01", { to: "1970-01-08T00:00:00Z" }],
    ["the last second of 9999 as to", { from: "9999-12-31", to: "9999-12-31T23:59:59Z" }],
    ["no dates at all", {}],
  ])("accepts %s", (_, query) => {
    expect(StatsQuerySchema.safeParse(query).success).toBe(true);
  });
});
