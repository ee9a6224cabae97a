import { describe, expect, it } from "vitest";
import { type NormalizedHost, normalizeHost } from "./host";
import { isDomainTable, siteFor, siteMap } from "./table";

const host = (raw: string) => normalizeHost(raw) as NormalizedHost;
const table = {
  v: 1 as const,
  domains: [
    { name: "acme.link", notFoundUrl: "https://acme.example/404" },
    { name: "go.acme.com:8443", baseUrl: "https://acme.example/" },
    { name: "sho.rt", baseUrl: "https://sho.example/" },
  ],
};

describe("siteFor", () => {
  const sites = siteMap(table, { defaultHost: "sho.rt", unknownHosts: "default" });

  it("gives a configured domain its own links and redirects", () => {
    expect(siteFor(sites, host("ACME.link."))).toEqual({
      domain: "acme.link",
      notFoundUrl: "https://acme.example/404",
      baseUrl: null,
    });
  });

  it("answers a domain added without a port on any port, one added with a port on that port only", () => {
    expect(siteFor(sites, host("acme.link:8080"))?.domain).toBe("acme.link");
    expect(siteFor(sites, host("go.acme.com:8443"))?.domain).toBe("go.acme.com:8443");
    expect(siteFor(sites, host("go.acme.com"))?.domain).toBe("");
  });

  it("stores the default domain's links as the empty domain, with its row's redirects", () => {
    expect(siteFor(sites, host("sho.rt"))).toEqual({
      domain: "",
      notFoundUrl: null,
      baseUrl: "https://sho.example/",
    });
    expect(siteFor(sites, host("unknown.example"))).toEqual(siteFor(sites, host("sho.rt")));
  });

  it("answers unknown hosts with nothing when configured so, but still knows the default host", () => {
    const strict = siteMap(table, { defaultHost: "sho.rt", unknownHosts: "not-found" });
    expect(siteFor(strict, host("unknown.example"))).toBeNull();
    expect(siteFor(strict, host("sho.rt"))?.domain).toBe("");
    const noDefault = siteMap({ v: 1, domains: [] }, { defaultHost: null, unknownHosts: "not-found" });
    expect(siteFor(noDefault, host("sho.rt"))).toBeNull();
  });

  it("gives every host the bare default domain without PUBLIC_BASE_URL or table", () => {
    const open = siteMap({ v: 1, domains: [] }, { defaultHost: null, unknownHosts: "default" });
    expect(siteFor(open, host("anything.example"))).toEqual({ domain: "", notFoundUrl: null, baseUrl: null });
  });
});

describe("isDomainTable", () => {
  it("accepts only the published shape", () => {
    expect(isDomainTable(table)).toBe(true);
    expect(isDomainTable({ v: 2, domains: [] })).toBe(false);
    expect(isDomainTable({ v: 1, domains: [{}] })).toBe(false);
    expect(isDomainTable(null)).toBe(false);
  });
});
