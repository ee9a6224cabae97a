import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadOrCreateSecrets } from "./secrets";

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "secrets-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("loadOrCreateSecrets", () => {
  it("generates distinct random secrets once, readable only by their owner, and keeps them", () => {
    const dir = dataDir();
    const first = loadOrCreateSecrets(join(dir, "data"));
    const values = Object.values(first);
    expect(new Set(values).size).toBe(6);
    for (const value of values) expect(value).toMatch(/^[\w-]{43}$/);
    expect(statSync(join(dir, "data", "secrets.json")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecrets(join(dir, "data"))).toEqual(first);
  });

  it("lets the environment override a secret without storing it", () => {
    const dir = dataDir();
    vi.stubEnv("ADMIN_TOKEN", "from-the-environment");
    expect(loadOrCreateSecrets(dir).adminToken).toBe("from-the-environment");
    expect(readFileSync(join(dir, "secrets.json"), "utf8")).not.toContain("from-the-environment");
  });
});
