import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COMPOSE_SECRETS, writeComposeEnv } from "./compose-env";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const envFile = () => {
  dir = mkdtempSync(join(tmpdir(), "compose-env-"));
  return join(dir, ".env");
};

describe("writeComposeEnv", () => {
  it("generates every secret Compose requires into a file only its owner can read", () => {
    const path = envFile();
    expect(writeComposeEnv(path)).toEqual(COMPOSE_SECRETS);
    const values = readFileSync(path, "utf8").trim().split("\n");
    expect(values.map((line) => line.split("=")[0])).toEqual(COMPOSE_SECRETS);
    for (const line of values) expect(line).toMatch(/^[A-Z_]+=[\w-]{43}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keeps what the file has and adds only what is missing", () => {
    const path = envFile();
    writeFileSync(path, "ADMIN_TOKEN=mine\nOTHER=1");
    expect(writeComposeEnv(path)).not.toContain("ADMIN_TOKEN");
    const text = readFileSync(path, "utf8");
    expect(text.startsWith("ADMIN_TOKEN=mine\nOTHER=1\n")).toBe(true);
    expect(writeComposeEnv(path)).toEqual([]);
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});
