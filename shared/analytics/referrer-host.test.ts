import { describe, expect, it } from "vitest";
import { referrerHost } from "./referrer-host";

describe("referrerHost", () => {
  it("keeps the host only, without www", () => {
    expect(referrerHost("https://www.News.Example.org/x?y=1")).toBe("news.example.org");
    expect(referrerHost("android-app://com.slack/")).toBe("com.slack");
    expect(referrerHost("not a url")).toBeNull();
    expect(referrerHost(null)).toBeNull();
  });
});
