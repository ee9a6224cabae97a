/**
 * One normal form for host names, shared by the domain API (the names an admin adds) and
 * the redirect (the request's `Host`), so that a name matches however it was written:
 * lowercase, punycode for international names (WHATWG URL does the IDN mapping, as browsers
 * do), no trailing dot, the port kept only when it is not 80 or 443. Refused: anything but
 * a host and an optional port (userinfo, path, query, whitespace), an empty label, a label
 * over 63 or a name over 253 characters (DNS limits), a port outside 1–65535.
 */
import { ProblemError } from "@shared/problem";

export type HostProblem = "empty" | "not-a-host" | "label-too-long" | "name-too-long" | "bad-port";

export type NormalizedHost = {
  /** `name` or `name:port`: what a domain is stored and matched as. */
  host: string;
  /** The name alone (no port): what the own-host rule for targets compares. */
  hostname: string;
  problem?: never;
};

export type HostResult = NormalizedHost | { problem: HostProblem; host?: never; hostname?: never };

export const HOST_MESSAGES: Record<HostProblem, string> = {
  empty: "must not be empty",
  "not-a-host": "must be a host name with an optional port, without scheme, userinfo, path or spaces",
  "label-too-long": "each label (between dots) must be at most 63 characters once punycode-encoded",
  "name-too-long": "must be at most 253 characters once punycode-encoded",
  "bad-port": "the port must be a number from 1 to 65535",
};

/** Longer input cannot be a valid host and port; refused before any parsing. */
const MAX_INPUT = 1024;
// Already normal: lowercase letters, digits and hyphens in dot-separated labels, an optional port.
const CANONICAL = /^[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*(?::[1-9]\d{0,4})?$/;
// Written like CANONICAL but for the parser to judge: a punycode label (valid only if it decodes) or a last
// label that reads as a number (then the name is an IPv4 address in some spelling, `127.1`, `0x7f.1`, or none).
const FOR_THE_PARSER = /(?:^|\.)xn--|(?:^|\.)(?:\d+|0x[0-9a-f]*)(?::\d+)?$/;
// Only a host and a port may be written: no userinfo, path, query, fragment, backslash or whitespace.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const NOT_AUTHORITY = /[/?#@\\\s\u0000-\u001f\u007f]/;

/**
 * The normal form of a `Host` header value or a domain name, or the rule it breaks.
 * A value that is already normal (the usual `Host`) costs a regular-expression test.
 *
 * @example normalizeHost("Bücher.Example.:443") // { host: "xn--bcher-kva.example", hostname: "xn--bcher-kva.example" }
 */
export function normalizeHost(raw: string): HostResult {
  if (raw.length === 0) return { problem: "empty" };
  if (raw.length > MAX_INPUT) return { problem: "name-too-long" };
  if (CANONICAL.test(raw) && !FOR_THE_PARSER.test(raw) && raw.length <= 253 + 6) {
    const colon = raw.indexOf(":");
    if (colon === -1) return raw.length <= 253 ? { host: raw, hostname: raw } : { problem: "name-too-long" };
    const port = raw.slice(colon + 1);
    if (port !== "80" && port !== "443" && Number(port) <= 65535) {
      const hostname = raw.slice(0, colon);
      if (hostname.length <= 253) return { host: raw, hostname };
    }
  }
  return parseHost(raw);
}

function parseHost(raw: string): HostResult {
  if (NOT_AUTHORITY.test(raw)) return { problem: "not-a-host" };
  let url: URL;
  try {
    url = new URL(`http://${raw}/`);
  } catch {
    return { problem: portProblem(raw) ?? "not-a-host" };
  }
  if (url.pathname !== "/" || url.search !== "" || url.username !== "" || url.password !== "") {
    return { problem: "not-a-host" };
  }
  let hostname = url.hostname;
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  if (hostname === "" || hostname.endsWith(".")) return { problem: "not-a-host" };
  if (!hostname.startsWith("[")) {
    const labels = hostname.split(".");
    if (labels.some((label) => label === "")) return { problem: "not-a-host" };
    if (labels.some((label) => label.length > 63)) return { problem: "label-too-long" };
  }
  if (hostname.length > 253) return { problem: "name-too-long" };
  if (url.port === "0") return { problem: "bad-port" };
  // The parser drops the port that is the default of its scheme (80 for http:); 443 is dropped here.
  const port = url.port === "443" ? "" : url.port;
  return { host: port ? `${hostname}:${port}` : hostname, hostname };
}

/** A port the parser refused (not digits, or over 65535) reads better as "bad port" than "not a host". */
function portProblem(raw: string): HostProblem | null {
  const colon = raw.lastIndexOf(":");
  if (colon === -1 || raw.endsWith("]")) return null;
  const port = raw.slice(colon + 1);
  return /^\d*$/.test(port) && Number(port) <= 65535 ? null : "bad-port";
}

/** The problem a request's Host gets when it is no host: the edge's answer, and nginx's for a missing one. */
export function invalidHost(problem: HostProblem): ProblemError {
  return new ProblemError(400, "invalid-host", "Invalid Host header", {
    detail: `the Host header ${HOST_MESSAGES[problem]}`,
  });
}
