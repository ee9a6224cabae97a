/**
 * The longest host name DNS has (253 characters). A referrer's URL can name a far longer one: URL parsing turns 2,000
 * characters of a Referer header into a host of 6,000 (punycode) or 12,000 (percent-encoded), past what one key of
 * click_rollups' index holds (2,704 bytes), which failed the whole batch of clicks it came in.
 */
const MAX_HOST_LENGTH = 253;

/** The host of a referrer URL, lower-cased, without `www.`; null when absent, not a URL, or longer than any host name. */
export function referrerHost(referrer: string | null): string | null {
  if (!referrer) return null;
  try {
    const host = new URL(referrer).hostname.toLowerCase();
    if (host.length > MAX_HOST_LENGTH) return null;
    return host.startsWith("www.") ? host.slice(4) : host || null;
  } catch {
    return null;
  }
}
