/**
 * The `Location` for a stored target. Targets have been stored as WHATWG-normalized hrefs
 * since the target URL rules (docs/security.md); records written before were stored as
 * typed (`http:slug`, raw UTF-8 hosts, uppercase schemes) and are normalized here, on the
 * redirect path. One regular expression recognizes an href, so that only such old records
 * pay for a URL parse, once.
 */
export function locationFor(storedTarget: string): string {
  if (HREF_SHAPE.test(storedTarget)) return storedTarget;
  try {
    return new URL(storedTarget).href;
  } catch {
    // Every stored target once parsed; should one not, a redirect still beats a 500.
    return storedTarget;
  }
}

// How every normalized http(s) href looks: scheme, "//", a host of printable ASCII without / \ ? # @ (the
// ranges skip exactly those), then "/" and printable ASCII (hrefs percent-encode spaces, controls, non-ASCII).
// One expression: ~150 ns on the redirect path, against ~3 µs for a URL parse.
const HREF_SHAPE = /^https?:\/\/[!-"$-.0->A-[\]-~]+\/[!-~]*$/;
