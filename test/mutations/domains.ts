import type { Mutation } from "./types";

/** Several short domains (#16): keys, host matching, domain restrictions, the own-host rule. */
export const DOMAIN_MUTATIONS: Mutation[] = [
  {
    id: "default-domain-key-moves",
    bug: "the default domain's links get a new KV key, so every existing short URL misses KV",
    file: "shared/keys.ts",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the search text is source code.
    search: 'domain === "" ? `link:${slug}` : `link:${domain}/${slug}`',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the replacement is source code.
    replace: "`link:${domain}/${slug}`",
    tests: ["test/domain-migration.test.ts"],
  },
  {
    id: "domain-port-fallback-lost",
    bug: "a domain added without a port no longer answers a Host with a port",
    file: "shared/domains/table.ts",
    search: "(host.host === host.hostname ? undefined : sites.byHost.get(host.hostname))",
    replace: "undefined",
    tests: ["shared/domains/table.test.ts", "test/domains.test.ts"],
  },
  {
    id: "domain-owner-restriction-ignored",
    bug: "a domain restricted to some owners admits every owner's keys",
    file: "worker/src/services/domain-access.ts",
    search: "      allowed &&\n      !isAdminToken(this.principal) &&",
    replace: "      allowed &&\n      false &&\n      !isAdminToken(this.principal) &&",
    tests: ["test/domains.test.ts"],
  },
  {
    id: "short-domains-not-own-hosts",
    bug: "a link may target another short domain of this service (a redirect loop)",
    file: "worker/src/routes/links.ts",
    search: "...(await domains.shortHostnames()),",
    replace: "",
    tests: ["test/domains.test.ts"],
  },
  {
    id: "domain-api-open-to-keys",
    bug: "any API key with keys:admin manages the domain table",
    file: "worker/src/routes/domains.ts",
    search: "if (!isAdminToken(c.var.principal)) {",
    replace: "if (false) {",
    tests: ["test/domains.test.ts"],
  },
];
