/** Rules for redirect targets, shared by every route that accepts one. */

export const TARGET_URL_MAX_LENGTH = 2048;

export type TargetUrlProblem =
  | "too-long"
  | "not-a-url"
  | "scheme-not-allowed"
  | "hostname-required"
  | "credentials-not-allowed"
  | "control-characters"
  | "self-redirect";

/**
 * Checks a target URL and returns why it is refused, or null when it is fine.
 * `ownHosts` are the hostnames of this service: a link to them could loop.
 */
export function checkTargetUrl(raw: string, ownHosts: readonly string[] = []): TargetUrlProblem | null {
  if (raw.length > TARGET_URL_MAX_LENGTH) return "too-long";
  // Raw CR/LF/tab and other controls would be stripped by the URL parser and could smuggle headers.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(raw)) return "control-characters";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not-a-url";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "scheme-not-allowed";
  if (!url.hostname) return "hostname-required";
  if (url.username || url.password) return "credentials-not-allowed";
  const host = url.hostname.toLowerCase();
  if (ownHosts.some((own) => own.toLowerCase() === host)) return "self-redirect";
  return null;
}

export const TARGET_URL_MESSAGES: Record<TargetUrlProblem, string> = {
  "too-long": `must be at most ${TARGET_URL_MAX_LENGTH} characters`,
  "not-a-url": "must be an absolute URL",
  "scheme-not-allowed": "must use http or https",
  "hostname-required": "must have a hostname",
  "credentials-not-allowed": "must not contain a username or password",
  "control-characters": "must not contain control characters",
  "self-redirect": "must not point at this service (redirect loop)",
};
