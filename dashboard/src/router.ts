import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes (`#/links/abc`): the server serves one page for the dashboard, and a route never leaves the
 * browser. A dozen lines; a router package would be larger than what it does here.
 */
export function useHashPath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return path;
}

const currentPath = () => decodeURI(location.hash.replace(/^#/, "")) || "/";

export const navigate = (path: string) => {
  location.hash = path;
};

/** `/links/:slug/edit` against a path: the named segments, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("?")[0]?.split("/") ?? [];
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] as string;
    if (part.startsWith(":")) params[part.slice(1)] = value;
    else if (part !== value) return null;
  }
  return params;
}

/** The query of a hash path (`/links/abc?domain=x` → domain=x). */
export const queryOf = (path: string): URLSearchParams => new URLSearchParams(path.split("?")[1] ?? "");
