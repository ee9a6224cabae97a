import type { Mutation } from "./types";

/** Redirect rules, password links, previews, query forwarding (#17). */

const DECISION = "worker/src/redirect/decide.ts";
const RULES_TESTS = ["worker/src/redirect/decide.test.ts", "test/link-rules.test.ts"];
const PASSWORD_TESTS = ["worker/src/redirect/decide.test.ts", "test/password-links.test.ts"];

export const LINK_OPTION_MUTATIONS: Mutation[] = [
  {
    id: "password-gate-skipped",
    bug: "a password link redirects without its password",
    file: DECISION,
    search: '&& !unlocked) return { kind: "password", linkId };',
    replace: '&& false) return { kind: "password", linkId };',
    tests: PASSWORD_TESTS,
  },
  {
    id: "password-preview-clicks",
    bug: "a preview crawler uses up a password link's click limit without its password",
    file: DECISION,
    search: '(request.method === "GET" && !locked)',
    replace: 'request.method === "GET"',
    tests: PASSWORD_TESTS,
  },
  {
    id: "password-any-accepted",
    bug: "any password unlocks the link",
    file: "worker/src/redirect/unlock.ts",
    search: "if (!(await verifyPassword(password, hash)))",
    replace: "if (!(await verifyPassword(password, hash)) && false)",
    tests: ["test/password-links.test.ts"],
  },
  {
    id: "password-no-rate-limit",
    bug: "password attempts are not rate-limited",
    file: "worker/src/redirect/unlock.ts",
    search: 'consumeLimit(env, "unlockIp", ip),',
    replace: "",
    tests: ["test/password-links.test.ts"],
  },
  {
    id: "password-limit-fails-open",
    bug: "password attempts are unlimited while Redis is down",
    file: "worker/src/redirect/unlock.ts",
    search: "if (limits.includes(null)) return",
    replace: "if (false) return",
    tests: ["test/password-links.test.ts"],
  },
  {
    id: "rules-last-match-wins",
    bug: "the last matching rule wins instead of the first",
    file: DECISION,
    search: "for (const rule of rules) if (ruleMatches(rule, request, now)) return rule;\n  return null;",
    replace:
      "let last: RuleRecord | null = null;\n  for (const rule of rules) if (ruleMatches(rule, request, now)) last = rule;\n  return last;",
    tests: RULES_TESTS,
  },
  {
    id: "rules-window-end-included",
    bug: "a rule still matches at the instant its window ends",
    file: DECISION,
    search: "now >= rule.before",
    replace: "now > rule.before",
    tests: RULES_TESTS,
  },
  {
    id: "rules-any-language",
    bug: "a language rule matches any accepted language, not the first preference",
    file: DECISION,
    search: "languageMatches(tag, request.languages[0])",
    replace: "request.languages.some((l) => languageMatches(tag, l))",
    tests: RULES_TESTS,
  },
  {
    id: "rules-language-prefix",
    bug: "a language rule matches any tag starting with it (de matches deu)",
    file: DECISION,
    search: '&& preferred[ruleTag.length] === "-"',
    replace: "",
    tests: RULES_TESTS,
  },
  {
    id: "query-target-wins",
    bug: "a forwarded parameter does not replace the target's own",
    file: "shared/links/query.ts",
    search: "!replaced.has(paramName(pair))",
    replace: "true",
    tests: ["shared/links/query.test.ts", "test/link-rules.test.ts"],
  },
  {
    id: "preview-unescaped",
    bug: "the preview page writes the title without escaping it",
    file: "worker/src/redirect/pages.ts",
    search: "escapeHtml(value)",
    replace: "value",
    tests: ["test/link-rules.test.ts"],
  },
];
