import { sha256 } from "@noble/hashes/sha2.js";
import type { LinkPreview } from "@shared/links/rules";

/**
 * The two HTML answers a redirect may give instead of a `Location`: the password form and
 * the social preview. Neither runs a script; both are sent with a CSP that forbids them.
 */

/** What the password form tells the visitor. Constant texts only: nothing from the request is ever shown. */
export type PasswordFormState = "ask" | "wrong" | "too-many" | "unavailable";

const MESSAGES: Record<PasswordFormState, string> = {
  ask: "",
  wrong: '<p role="alert">Wrong password. Try again.</p>',
  "too-many": '<p role="alert">Too many attempts. Wait a minute and try again.</p>',
  unavailable: '<p role="alert">The password cannot be checked right now. Try again in a minute.</p>',
};

const STYLE =
  "body{font:16px system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f6f6}" +
  "main{background:#fff;padding:2rem;border-radius:8px;max-width:22rem;width:100%;box-shadow:0 1px 4px #0002}" +
  "h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin-bottom:.3rem}" +
  "input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;margin-bottom:1rem}" +
  "button{padding:.5rem 1rem;font:inherit}p[role=alert]{color:#a00}";

/** The one inline style, allowed by its hash: no 'unsafe-inline'. */
const STYLE_HASH = `'sha256-${btoa(String.fromCharCode(...sha256(new TextEncoder().encode(STYLE))))}'`;

/**
 * The form posts to its own URL (no `action`): the slug and the query go back unchanged,
 * without being written into the page. No `form-action` in the CSP: browsers apply it to the
 * redirect that follows the POST, which leads to the target's origin.
 */
export const PASSWORD_PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": `default-src 'none'; style-src ${STYLE_HASH}; frame-ancestors 'none'; base-uri 'none'`,
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "X-Robots-Tag": "noindex",
};

const PASSWORD_PAGES = Object.fromEntries(
  (Object.keys(MESSAGES) as PasswordFormState[]).map((state) => [
    state,
    '<!doctype html><html lang="en"><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Password required</title>' +
      `<style>${STYLE}</style><main><h1>This link is protected by a password</h1>${MESSAGES[state]}` +
      '<form method="post"><label for="password">Password</label>' +
      '<input id="password" name="password" type="password" required autofocus autocomplete="current-password">' +
      "<button>Continue</button></form></main></html>",
  ]),
) as Record<PasswordFormState, string>;

/** The password form, with a message for a wrong password or too many attempts. */
export const passwordPage = (state: PasswordFormState): string => PASSWORD_PAGES[state];

export const PREVIEW_PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'",
  "Cache-Control": "private, max-age=0, no-cache",
  "X-Content-Type-Options": "nosniff",
  "X-Robots-Tag": "noindex",
};

/** Open Graph and Twitter card tags for a crawler; every value HTML-escaped, the target never named. */
export function previewPage(preview: LinkPreview): string {
  const tags: string[] = [];
  const meta = (attribute: "property" | "name", key: string, value: string) =>
    tags.push(`<meta ${attribute}="${key}" content="${escapeHtml(value)}">`);
  if (preview.title !== undefined) {
    meta("property", "og:title", preview.title);
    meta("name", "twitter:title", preview.title);
  }
  if (preview.description !== undefined) {
    meta("property", "og:description", preview.description);
    meta("name", "twitter:description", preview.description);
  }
  if (preview.image !== undefined) {
    meta("property", "og:image", preview.image);
    meta("name", "twitter:image", preview.image);
  }
  meta("name", "twitter:card", preview.image !== undefined ? "summary_large_image" : "summary");
  const title = preview.title === undefined ? "" : `<title>${escapeHtml(preview.title)}</title>`;
  return `<!doctype html><html><head><meta charset="utf-8">${title}${tags.join("")}</head><body></body></html>`;
}

/**
 * The five characters that matter inside an element or a double-quoted attribute. Written
 * here rather than taken from a library: it is this one line, and Hono's `html` helper
 * would bring its async rendering onto the redirect path.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
