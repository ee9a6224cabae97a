/**
 * The `Location` for a stored target. Targets have been stored as WHATWG-normalized hrefs
 * since the target URL rules (docs/security.md); records written before were stored as
 * typed (`http:slug`, raw UTF-8 hosts, uppercase schemes) and are normalized here, on the
 * redirect path. Two cheap tests recognize an href so that only such old records pay for
 * a URL parse, once.
 */
export function locationFor(storedTarget: string): string {
  if (HREF_START.test(storedTarget) && PRINTABLE_ASCII.test(storedTarget)) return storedTarget;
  try {
    return new URL(storedTarget).href;
  } catch {
    // Every stored target once parsed; should one not, a redirect still beats a 500.
    return storedTarget;
  }
}

// How every normalized http(s) href starts: scheme, "//", a host without userinfo, then the path's "/".
const HREF_START = /^https?:\/\/[^/\\?#@]+\//;
// Hrefs percent-encode spaces, controls and non-ASCII.
const PRINTABLE_ASCII = /^[!-~]*$/;
