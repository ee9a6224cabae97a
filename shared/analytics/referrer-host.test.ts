import { describe, expect, it } from "vitest";
import { referrerHost } from "./referrer-host";

describe("referrerHost", () => {
  it("keeps the host only, without www", () => {
    expect(referrerHost("https://www.News.Example.org/x?y=1")).toBe("news.example.org");
    expect(referrerHost("android-app://com.slack/")).toBe("com.slack");
    expect(referrerHost("not a url")).toBeNull();
    expect(referrerHost(null)).toBeNull();
  });

  it("keeps a host of DNS's longest name, and none of a longer one", () => {
    const host = (n: number) => Array.from({ length: n }, (_, i) => (i % 64 === 63 ? "." : "a")).join("");
    expect(referrerHost(`https://${host(253)}/`)).toBe(host(253));
    expect(referrerHost(`https://${host(254)}/`)).toBeNull();
    // Percent-encoded: 100 characters become a host of 600.
    expect(referrerHost(`foo://${"ü".repeat(100)}/`)).toBeNull();
  });
});
