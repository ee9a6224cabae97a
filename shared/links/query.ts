/**
 * `href` with the parameters of `query` (a query string without "?", as a URL carries it)
 * added, each replacing the parameters of the same name `href` had; the others keep their
 * place and their spelling. Works on the strings, not through URLSearchParams, which would
 * re-encode every parameter of the target (`%20` → `+`, `~` → `%7E`).
 *
 * Both inputs are serialized URLs (a stored href, a query from `Request.url`), so the result
 * is ASCII and carries no character a `Location` header cannot.
 *
 * @example withQuery("https://a.example/p?x=1&y=2#f", "y=3&z") // "https://a.example/p?x=1&y=3&z#f"
 */
export function withQuery(href: string, query: string): string {
  const added = query.split("&").filter((pair) => pair !== "");
  if (added.length === 0) return href;
  const hashAt = href.indexOf("#");
  const fragment = hashAt === -1 ? "" : href.slice(hashAt);
  const beforeFragment = hashAt === -1 ? href : href.slice(0, hashAt);
  const queryAt = beforeFragment.indexOf("?");
  const base = queryAt === -1 ? beforeFragment : beforeFragment.slice(0, queryAt);
  const own = queryAt === -1 ? [] : beforeFragment.slice(queryAt + 1).split("&");
  const replaced = new Set(added.map(paramName));
  const kept = own.filter((pair) => pair !== "" && !replaced.has(paramName(pair)));
  return `${base}?${[...kept, ...added].join("&")}${fragment}`;
}

/** A pair's decoded name, so `utm%5Fsource` and `utm_source` are one parameter. */
function paramName(pair: string): string {
  const eq = pair.indexOf("=");
  const raw = (eq === -1 ? pair : pair.slice(0, eq)).replaceAll("+", " ");
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape (`%zz`) names itself.
    return raw;
  }
}
