import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The pure lane has no global setup (no servers, no bundling): seconds instead of tens of seconds. */
export const isUnitTest = (file: string) =>
  /^(src|worker\/src|aggregator\/src)\//.test(file) && !file.endsWith(".integration.test.ts");

/** The vitest run in progress (in a process group of its own, so that it can be killed whole). */
let running: ReturnType<typeof spawn> | undefined;

export type TestRun = {
  code: number | null;
  timedOut: boolean;
  failed: string[];
  passed: number;
  log: string;
};

/** Runs vitest on `files` in `cwd`, one lane at a time, and reads its JSON report. */
export async function runTests(cwd: string, files: string[], timeoutMs: number): Promise<TestRun> {
  const lanes = [files.filter(isUnitTest), files.filter((f) => !isUnitTest(f))].filter((l) => l.length > 0);
  const total: TestRun = { code: 0, timedOut: false, failed: [], passed: 0, log: "" };
  for (const lane of lanes) {
    const report = join(cwd, ".mutation-report.json");
    rmSync(report, { force: true });
    const config = isUnitTest(lane[0] as string) ? ["--config", "vitest.unit.config.ts"] : [];
    const args = [
      "vitest",
      "run",
      ...config,
      ...lane,
      "--reporter=json",
      `--outputFile=${report}`,
      "--bail=1",
    ];
    const child = spawn("npx", args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    running = child;
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    const timer = setTimeout(() => {
      total.timedOut = true;
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    running = undefined;
    total.log += log;
    if (code !== 0) total.code = code;
    if (existsSync(report)) {
      const json = JSON.parse(readFileSync(report, "utf8")) as {
        numPassedTests: number;
        testResults: Array<{
          name: string;
          assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
        }>;
      };
      total.passed += json.numPassedTests;
      for (const file of json.testResults)
        for (const t of file.assertionResults)
          if (t.status === "failed") {
            // The first line of the failure shows whether an assertion caught the bug or the mutant merely broke.
            const why = (t.failureMessages?.[0] ?? "").split("\n")[0]?.slice(0, 160);
            total.failed.push(`${file.name.replace(`${cwd}/`, "")} > ${t.fullName}\n         ${why}`);
          }
    }
    if (total.timedOut || total.failed.length > 0) break;
  }
  return total;
}

/** Kills the vitest run in progress, if any, with its children (workerd, Postgres, Redis). */
export function killRunning(): void {
  if (running?.pid) process.kill(-running.pid, "SIGKILL");
}
