import { isPrivateHost } from "./private-host";

/** Rules for redirect targets, shared by every route that accepts one (docs/security.md). */

export const TARGET_URL_MAX_LENGTH = 2048;

export type TargetUrlProblem =
  | "too-long"
  | "control-characters"
  | "not-a-url"
  | "scheme-not-allowed"
  | "slashes-required"
  | "backslash-in-authority"
  | "credentials-not-allowed"
  | "self-redirect"
  | "private-host";

export type TargetUrlPolicy = {
  /** Hostnames of this service (request host, short domain): a target on them is a redirect loop. */
  ownHosts: readonly string[];
  /** Accept loopback, private and link-local hosts and localhost (local development only). */
  allowPrivate: boolean;
};

/** What needs no deployment settings: the request schemas check this much. */
export const STATIC_RULES_ONLY: TargetUrlPolicy = { ownHosts: [], allowPrivate: true };

export type TargetUrlResult = { href: string; problem?: never } | { problem: TargetUrlProblem; href?: never };

// What stands between the scheme's "//" and the path, query or fragment, as the client wrote it.
const WRITTEN_AUTHORITY = /^ *https?:\/\/([^/?#]*)/i;

/**
 * Checks a target URL and returns its WHATWG-normalized href (punycode host,
 * percent-encoded path, ASCII only), which is what gets stored and served, or the
 * first rule it breaks. The host rules run on the normalized host, so no spelling of
 * an address or of this service's own host gets past them.
 */
export function parseTargetUrl(raw: string, policy: TargetUrlPolicy): TargetUrlResult {
  if (raw.length > TARGET_URL_MAX_LENGTH) return { problem: "too-long" };
  // Raw CR/LF/tab and other controls would be stripped by the URL parser and could smuggle headers.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { problem: "control-characters" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: "not-a-url" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: "scheme-not-allowed" };
  // The parser reads `http:slug`, `http:/slug` and `http:///slug` with "slug" as the host, but a browser
  // resolves `http:slug` against the short URL: a loop back to this service. Only `http(s)://host` is clear.
  const written = WRITTEN_AUTHORITY.exec(raw)?.[1];
  if (!written) return { problem: "slashes-required" };
  // WHATWG ends the host at a backslash, other parsers do not: `https://a.example\@b.example/` has two readings.
  if (written.includes("\\")) return { problem: "backslash-in-authority" };
  // Any "@" in the authority, even with empty credentials, is how hosts get disguised.
  if (written.includes("@")) return { problem: "credentials-not-allowed" };
  const host = withoutTrailingDot(url.hostname);
  if (policy.ownHosts.some((own) => withoutTrailingDot(own.toLowerCase()) === host)) {
    return { problem: "self-redirect" };
  }
  if (!policy.allowPrivate && isPrivateHost(host)) return { problem: "private-host" };
  // Percent-encoding can lengthen a URL up to threefold.
  if (url.href.length > TARGET_URL_MAX_LENGTH) return { problem: "too-long" };
  return { href: url.href };
}

const withoutTrailingDot = (host: string): string => (host.endsWith(".") ? host.slice(0, -1) : host);

export const TARGET_URL_MESSAGES: Record<TargetUrlProblem, string> = {
  "too-long": `must be at most ${TARGET_URL_MAX_LENGTH} characters, also once normalized`,
  "control-characters": "must not contain control characters",
  "not-a-url": "must be an absolute URL",
  "scheme-not-allowed": "must use http or https",
  "slashes-required": "must start with http:// or https:// followed by the host",
  "backslash-in-authority": "must not contain a backslash before the path (parsers disagree on the host)",
  "credentials-not-allowed": "must not contain a username, password or @ before the host",
  "self-redirect": "must not point at this service (redirect loop)",
  "private-host": "must not point at localhost or a loopback, private or link-local address",
};
