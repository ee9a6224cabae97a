import { describe, expect, it } from "vitest";
import { isPrivateHost } from "./private-host";

/** Hosts as the WHATWG parser hands them over, which is the only form isPrivateHost sees. */
const hostOf = (url: string) => new URL(url).hostname;

describe("isPrivateHost", () => {
  it.each([
    ["localhost", "http://localhost:8787/"],
    ["a subdomain of localhost", "http://app.localhost/"],
    ["localhost with a trailing dot", "http://LOCALHOST./"],
    ["the unspecified IPv4 address", "http://0.0.0.0/"],
    ["this network 0/8", "http://0.1.2.3/"],
    ["RFC 1918 10/8", "http://10.255.0.1/"],
    ["CGNAT 100.64/10, low end", "http://100.64.0.1/"],
    ["CGNAT 100.64/10, high end", "http://100.127.255.254/"],
    ["loopback 127.0.0.1", "http://127.0.0.1/"],
    ["loopback written 127.1", "http://127.1/"],
    ["loopback written 0x7f000001", "http://0x7f000001/"],
    ["loopback written in octal", "http://0177.0.0.1/"],
    ["anywhere in 127/8", "http://127.200.1.1/"],
    ["link-local 169.254/16 (cloud metadata)", "http://169.254.169.254/"],
    ["RFC 1918 172.16/12, low end", "http://172.16.0.1/"],
    ["RFC 1918 172.16/12, high end", "http://172.31.255.255/"],
    ["RFC 1918 192.168/16", "http://192.168.1.1/"],
    ["the IPv6 loopback", "http://[::1]/"],
    ["the unspecified IPv6 address", "http://[::]/"],
    ["IPv4-compatible loopback", "http://[::127.0.0.1]/"],
    ["IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"],
    ["IPv4-mapped RFC 1918", "http://[::ffff:10.0.0.1]/"],
    ["NAT64 of loopback", "http://[64:ff9b::127.0.0.1]/"],
    ["unique local fc00::/7 (fc)", "http://[fc00::1]/"],
    ["unique local fc00::/7 (fd)", "http://[fdff:ffff::1]/"],
    ["link-local fe80::/10", "http://[fe80::1]/"],
    ["link-local fe80::/10, high end", "http://[febf::1]/"],
    ["site-local fec0::/10", "http://[fec0::1]/"],
    ["benchmarking 198.18/15, low end", "http://198.18.0.0/"],
    ["benchmarking 198.18/15, high end", "http://198.19.255.255/"],
    ["multicast 224/4, low end", "http://224.0.0.1/"],
    ["multicast 224/4, high end", "http://239.255.255.255/"],
    ["reserved 240/4", "http://240.0.0.1/"],
    ["the broadcast address", "http://255.255.255.255/"],
    ["6to4 of loopback", "http://[2002:7f00:1::]/"],
    ["6to4 of RFC 1918, with an interface id", "http://[2002:c0a8:101::1]/"],
    ["6to4 of the metadata address", "http://[2002:a9fe:a9fe::]/"],
    ["IPv6 multicast ff00::/8", "http://[ff02::1]/"],
    ["IPv6 multicast ff00::/8, high end", "http://[ffff::1]/"],
  ])("refuses %s", (_, url) => {
    expect(isPrivateHost(hostOf(url))).toBe(true);
  });

  it.each([
    ["a public name", "https://example.com/"],
    ["a name that only contains localhost", "https://localhost.example.com/"],
    ["a name ending in localhost without a dot", "https://mylocalhost/"],
    ["a public IPv4 address", "http://1.1.1.1/"],
    ["just above 0/8", "http://1.0.0.0/"],
    ["just above 10/8", "http://11.0.0.0/"],
    ["just below CGNAT", "http://100.63.255.255/"],
    ["just above CGNAT", "http://100.128.0.0/"],
    ["just above 127/8", "http://128.0.0.0/"],
    ["just above 169.254/16", "http://169.255.0.0/"],
    ["just below 172.16/12", "http://172.15.255.255/"],
    ["just above 172.16/12", "http://172.32.0.0/"],
    ["just above 192.168/16", "http://192.169.0.0/"],
    ["a public IPv6 address", "http://[2606:4700::1111]/"],
    ["an IPv4-mapped public address", "http://[::ffff:8.8.8.8]/"],
    ["NAT64 of a public address", "http://[64:ff9b::8.8.8.8]/"],
    ["just below fc00::/7", "http://[fbff::1]/"],
    ["just above fc00::/7", "http://[fe00::1]/"],
    ["just below fe80::/10", "http://[fe7f::1]/"],
    ["above ::/96", "http://[::1:0:0:1]/"],
    ["just below 198.18/15", "http://198.17.255.255/"],
    ["just above 198.18/15", "http://198.20.0.0/"],
    ["just below 224/4", "http://223.255.255.255/"],
    ["6to4 of a public address", "http://[2002:808:808::1]/"],
    ["just below 2002::/16", "http://[2001:ffff::1]/"],
    ["just above 2002::/16", "http://[2003::1]/"],
  ])("accepts %s", (_, url) => {
    expect(isPrivateHost(hostOf(url))).toBe(false);
  });
});
