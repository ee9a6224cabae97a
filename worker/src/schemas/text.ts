import { z } from "@hono/zod-openapi";

/**
 * What no string the API accepts may contain, in a body or a query: control characters
 * (C0, DEL and C1; U+0000 is one Postgres text cannot store at all, and every field is
 * single-line, so tab and newline have no place either) and lone surrogates (UTF-8 cannot
 * encode them, so the database driver would store U+FFFD instead of what was sent).
 */

/** The first character of `value` the API never accepts, described for an error message; null if none. */
export function unsafeCharacter(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) return `the control character ${codePoint(unit)}`;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `the lone surrogate ${codePoint(unit)}`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `the lone surrogate ${codePoint(unit)}`;
  }
  return null;
}

/** Why `value` is refused, or null: the message every field and query parameter gives. */
export function unsafeTextMessage(value: string): string | null {
  const found = unsafeCharacter(value);
  return found === null ? null : `must not contain ${found}`;
}

const codePoint = (unit: number) => `U+${unit.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * `z.string()` for every string the API accepts: the same refusal, at the field's own path.
 *
 * @example tags: z.array(text().min(1).max(64))
 */
export const text = () =>
  z.string().superRefine((value, ctx) => {
    const message = unsafeTextMessage(value);
    if (message) ctx.addIssue({ code: "custom", message });
  });
