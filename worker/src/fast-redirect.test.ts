import { describe, expect, it } from "vitest";
import { redirectSlug } from "./fast-redirect";

describe("redirectSlug", () => {
  it("takes the one path segment of GET and HEAD requests for a valid slug", () => {
    expect(redirectSlug("GET", "https://sho.rt/abc")).toBe("abc");
    expect(redirectSlug("HEAD", "http://127.0.0.1:8081/Ab_9-x")).toBe("Ab_9-x");
    expect(redirectSlug("GET", "https://sho.rt/abc?utm_source=x&y=/z")).toBe("abc");
    expect(redirectSlug("GET", "https://sho.rt/abc#frag")).toBe("abc");
  });

  it("leaves everything else to the router", () => {
    const routed = [
      ["POST", "https://sho.rt/abc"],
      ["GET", "https://sho.rt/"],
      ["GET", "https://sho.rt/abc/"],
      ["GET", "https://sho.rt/a/b"],
      ["GET", "https://sho.rt/health"],
      ["GET", "https://sho.rt/ready"],
      ["GET", "https://sho.rt/metrics"],
      ["GET", "https://sho.rt/openapi.json"],
      ["GET", "https://sho.rt/API?x=1"],
      ["GET", "https://sho.rt/%61bc"],
      ["GET", `https://sho.rt/${"x".repeat(65)}`],
    ];
    for (const [method, url] of routed) expect(redirectSlug(method as string, url as string), url).toBeNull();
  });
});
