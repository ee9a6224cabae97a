import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { promtool } from "../../test/promtool";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = "selfhost/prometheus/prometheus.yml";
const RULES = "selfhost/prometheus/alerts.yml";
const RULE_TESTS = "selfhost/prometheus/alerts.test.yml";

const read = (path: string) => readFileSync(`${root}/${path}`, "utf8");
const alertNames = () => [...read(RULES).matchAll(/^\s*-\s*alert:\s*(\S+)\s*$/gm)].map((m) => m[1]);

describe("Prometheus configuration (promtool)", () => {
  it("prometheus.yml is a valid config and finds its rule file", () => {
    // promtool insists the token file exists: the Compose secret's path is swapped for a real file.
    const dir = mkdtempSync(join(tmpdir(), "promtool-"));
    try {
      writeFileSync(join(dir, "metrics_token"), "token");
      writeFileSync(join(dir, "alerts.yml"), read(RULES));
      const config = read(CONFIG).replaceAll("/run/secrets/metrics_token", join(dir, "metrics_token"));
      writeFileSync(join(dir, "prometheus.yml"), config);
      expect(promtool(["check", "config", join(dir, "prometheus.yml")])).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("alerts.yml is a valid rule file", () => {
    expect(promtool(["check", "rules", RULES])).toMatch(/SUCCESS/);
  });

  it("alert unit tests pass", () => {
    expect(promtool(["test", "rules", RULE_TESTS])).toMatch(/SUCCESS/);
  });
});

describe("alert rules coverage", () => {
  const names = alertNames();

  it("defines at least 20 uniquely named alerts, each with for, severity and annotations", () => {
    expect(names.length).toBeGreaterThanOrEqual(20);
    expect(new Set(names).size).toBe(names.length);
    // Each rule block runs from its `- alert:` line to the next one.
    const blocks = read(RULES)
      .split(/^\s*-\s*alert:/m)
      .slice(1);
    expect(blocks).toHaveLength(names.length);
    for (const [i, block] of blocks.entries()) {
      expect(block, names[i]).toMatch(/^\s+for:\s*\d+[smh]\s*$/m);
      expect(block, names[i]).toMatch(/^\s+severity:\s*(page|ticket)\s*$/m);
      expect(block, names[i]).toMatch(/^\s+summary:/m);
      expect(block, names[i]).toMatch(/^\s+description:/m);
    }
  });

  it("every alert has a firing and a non-firing case in alerts.test.yml", () => {
    const tests = read(RULE_TESTS);
    // Convention in alerts.test.yml: exp_alerts directly follows alertname.
    const cases = [...tests.matchAll(/alertname:\s*(\w+)\s*[,\n]\s*exp_alerts:\s*(\[\s*\])?/g)].map((m) => ({
      name: m[1],
      fires: m[2] === undefined,
    }));
    expect(cases.length, "each alertname: must be followed by exp_alerts:").toBe(
      [...tests.matchAll(/alertname:/g)].length,
    );
    const unknown = cases.map((c) => c.name).filter((n) => !names.includes(n));
    expect(unknown, "tests for alerts that alerts.yml does not define").toEqual([]);
    for (const name of names) {
      const mine = cases.filter((c) => c.name === name);
      expect(mine.length, `${name} appears in fewer than two test cases`).toBeGreaterThanOrEqual(2);
      expect(
        mine.some((c) => c.fires),
        `${name} has no firing test case`,
      ).toBe(true);
      expect(
        mine.some((c) => !c.fires),
        `${name} has no non-firing test case`,
      ).toBe(true);
    }
  });
});
