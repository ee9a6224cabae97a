import { describe, expect, it } from "vitest";
import { withQuery } from "./query";

describe("withQuery", () => {
  it("adds parameters after the target's own, before the fragment", () => {
    expect(withQuery("https://a.example/p", "x=1")).toBe("https://a.example/p?x=1");
    expect(withQuery("https://a.example/p?y=2#f", "x=1")).toBe("https://a.example/p?y=2&x=1#f");
  });

  it("replaces every target parameter of an added name, matching names decoded", () => {
    expect(withQuery("https://a.example/p?a=1&b=2&a=3", "a=9")).toBe("https://a.example/p?b=2&a=9");
    expect(withQuery("https://a.example/p?utm%5Fsource=t", "utm_source=v")).toBe(
      "https://a.example/p?utm_source=v",
    );
    expect(withQuery("https://a.example/p?a+b=1", "a%20b=2")).toBe("https://a.example/p?a%20b=2");
  });

  it("keeps the spelling of the target's other parameters and of the added ones", () => {
    expect(withQuery("https://a.example/p?q=a%20b&t=~x", "r=c+d")).toBe(
      "https://a.example/p?q=a%20b&t=~x&r=c+d",
    );
  });

  it("changes nothing for an empty query, drops empty pairs, survives malformed escapes", () => {
    expect(withQuery("https://a.example/p?a=1", "")).toBe("https://a.example/p?a=1");
    expect(withQuery("https://a.example/p?a=1", "&&")).toBe("https://a.example/p?a=1");
    expect(withQuery("https://a.example/p?&a=1&", "b=2")).toBe("https://a.example/p?a=1&b=2");
    expect(withQuery("https://a.example/p?%zz=1", "%zz=2&%E0%A4%A=3")).toBe(
      "https://a.example/p?%zz=2&%E0%A4%A=3",
    );
  });
});
