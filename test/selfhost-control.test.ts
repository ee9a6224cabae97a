import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeRunnerOffset, type Runner, startRunner } from "./runner";

/** `npm run selfhost`'s control port, which rebuilds and replaces the replicas on request. */
let base: string;
let dataDir: string;
let offset: number;
let runner: Runner;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "selfhost-control-"));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its directory.
  chmodSync(base, 0o755);
  dataDir = join(base, "data");
  offset = await freeRunnerOffset();
  runner = await startRunner({ dataDir, runDir: join(base, "run"), offset });
}, 180_000);
afterAll(async () => {
  await runner?.interrupt();
  rmSync(base, { recursive: true, force: true });
}, 60_000);

const controlUrl = () => `http://127.0.0.1:${8099 + offset}/rolling-restart`;
const internalToken = () => JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")).internalToken;

describe("the runner's control port", () => {
  it("refuses a rolling restart without the internal token or with a wrong one", async () => {
    expect((await fetch(controlUrl(), { method: "POST" })).status).toBe(401);
    const wrong = { Authorization: "Bearer wrong-token" };
    expect((await fetch(controlUrl(), { method: "POST", headers: wrong })).status).toBe(401);
    expect(
      (await fetch(controlUrl(), { method: "POST", headers: { Authorization: "Bearer " } })).status,
    ).toBe(401);
  });

  it("runs one for `npm run selfhost:restart`, which reads the token from the data directory", async () => {
    expect(internalToken()).toMatch(/^[\w-]{43}$/);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../selfhost/restart.ts", import.meta.url))],
      {
        env: { ...process.env, SELFHOST_PORT_OFFSET: String(offset), SELFHOST_DATA_DIR: dataDir },
        timeout: 170_000,
      },
    );
    expect(stdout).toContain("replaced 3 replicas");
  }, 180_000);
});
