import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const processes = fileURLToPath(new URL("./processes.ts", import.meta.url));
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("killOnExit", () => {
  it("sends SIGTERM and lets the child finish (Redis fsyncs its AOF) before it would SIGKILL", () => {
    dir = mkdtempSync(join(tmpdir(), "kill-on-exit-"));
    const flushed = join(dir, "flushed");
    // The child takes 300 ms to "flush" on SIGTERM, as Redis does its append-only file.
    const child = `process.on("SIGTERM", () => setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(flushed)}, "ok"); process.exit(0); }, 300)); process.stdout.write("ready"); setInterval(() => {}, 1000);`;
    const parent = `
      import { spawn } from "node:child_process";
      const { killOnExit } = await import(${JSON.stringify(processes)});
      const c = spawn(process.execPath, ["-e", ${JSON.stringify(child)}], { stdio: ["ignore", "pipe", "inherit"] });
      killOnExit(c);
      c.stdout.once("data", () => process.exit(0));
    `;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", parent], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(flushed)).toBe(true);
  });
});
