import type { Mutation } from "./types";

const UNIT = ["shared/links/target-url.test.ts", "shared/links/private-host.test.ts"];

/** Target URL rules (shared/links/) and how the API wires them to the deployment. */
export const URL_MUTATIONS: Mutation[] = [
  {
    id: "url-scheme-check-removed",
    bug: "any scheme with a host passes (javascript://example.com/%0Aalert(1))",
    file: "shared/links/target-url.ts",
    search:
      'if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: "scheme-not-allowed" };',
    replace: "",
    tests: UNIT,
  },
  {
    id: "url-slashes-not-required",
    bug: "http:<slug> is read with the slug as its host and passes, though a browser resolves it on this service",
    file: "shared/links/target-url.ts",
    search: "const written = WRITTEN_AUTHORITY.exec(raw)?.[1];",
    replace: "const written = WRITTEN_AUTHORITY.exec(raw)?.[1] ?? url.host;",
    tests: UNIT,
  },
  {
    id: "url-backslash-allowed",
    bug: "a backslash in the authority passes (parsers disagree on the host)",
    file: "shared/links/target-url.ts",
    search: 'if (written.includes("\\\\")) return { problem: "backslash-in-authority" };',
    replace: "",
    tests: UNIT,
  },
  {
    id: "url-own-host-check-removed",
    bug: "a target on this service's own host passes (redirect loop)",
    file: "shared/links/target-url.ts",
    search: "if (policy.ownHosts.some((own) => withoutTrailingDot(own.toLowerCase()) === host)) {",
    replace: "if (false) {",
    tests: UNIT,
  },
  {
    id: "api-own-host-not-request-host",
    bug: "the API leaves the request's own host out of the own-host check",
    file: "worker/src/routes/links.ts",
    search: "    ownHosts: [\n      url.hostname,\n",
    replace: "    ownHosts: [\n",
    tests: ["test/target-urls.test.ts"],
  },
  {
    id: "url-private-check-removed",
    bug: "loopback, private and link-local targets pass",
    file: "shared/links/target-url.ts",
    search: "if (!policy.allowPrivate && isPrivateHost(host))",
    replace: "if (false)",
    tests: UNIT,
  },
  {
    id: "private-host-misses-loopback",
    bug: "127.0.0.0/8 is not private",
    file: "shared/links/private-host.ts",
    search: '  ["127.0.0.0", 8],\n',
    replace: "",
    tests: UNIT,
  },
  {
    id: "private-host-misses-ipv4-mapped",
    bug: "[::ffff:127.0.0.1] is not private",
    file: "shared/links/private-host.ts",
    search: "if (zeroUpTo(5) && g[5] === 0xffff) return isPrivateIpv4(embeddedIpv4);",
    replace: "if (zeroUpTo(5) && g[5] === 0xffff) return false;",
    tests: UNIT,
  },
  {
    id: "private-targets-allowed-by-default",
    bug: "private targets are accepted unless ALLOW_PRIVATE_TARGETS=false",
    file: "worker/src/config.ts",
    search: 'allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS === "true",',
    replace: 'allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS !== "false",',
    tests: ["test/target-urls.test.ts"],
  },
];
