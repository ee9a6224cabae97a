import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mutation } from "../../test/mutations/types";

/** Why `m` cannot be planted in the tree at `root` (its search text must occur exactly once), or null. */
export function whyStale(root: string, m: Mutation): string | null {
  const path = join(root, m.file);
  if (!existsSync(path)) return `${m.file} does not exist`;
  const count = readFileSync(path, "utf8").split(m.search).length - 1;
  return count === 1 ? null : `search text found ${count} times in ${m.file}`;
}

/** Plants `m` in the tree at `root`; returns why it cannot, or null. Replaces by position, so `$` in it is literal. */
export function plant(root: string, m: Mutation): string | null {
  const stale = whyStale(root, m);
  if (stale) return stale;
  const path = join(root, m.file);
  const source = readFileSync(path, "utf8");
  const at = source.indexOf(m.search);
  writeFileSync(path, source.slice(0, at) + m.replace + source.slice(at + m.search.length));
  return null;
}
