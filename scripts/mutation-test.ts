/**
 * Plants each bug of test/mutations/ in a scratch copy of the tree, one at a time, and runs only
 * the test files that should catch it. A mutant is killed when one of those tests fails, and
 * survives when they all pass. The run fails when the score falls below SCORE_FLOOR, when a
 * mutation no longer applies (its search text is gone or not unique), or when a mutant breaks
 * the run before any test fails (a setup error says nothing about the tests).
 *
 *   npm run test:mutation                        # every mutation, after a baseline run
 *   npm run test:mutation -- --only id1,id2      # some of them
 *   npm run test:mutation -- --list              # what there is
 *   npm run test:mutation -- --check             # only that every mutation still applies (seconds)
 *
 * The working tree is never touched: an interrupted run leaves at most a directory in $TMPDIR.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MUTATIONS, SCORE_FLOOR } from "../test/mutations";
import type { Mutation } from "../test/mutations/types";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** A mutant whose tests have not finished by then counts as killed (it hangs the suite). */
const MUTANT_TIMEOUT_MS = 10 * 60_000;

type Verdict = "killed" | "survived" | "timeout" | "error" | "stale";
type Outcome = { mutation: Mutation; verdict: Verdict; seconds: number; detail: string };

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    list: { type: "boolean" },
    check: { type: "boolean" },
    "no-baseline": { type: "boolean" },
  },
});

const wanted = values.only?.split(",").map((s) => s.trim());
const mutations = wanted ? MUTATIONS.filter((m) => wanted.includes(m.id)) : MUTATIONS;
if (wanted && mutations.length !== wanted.length) {
  const known = new Set(MUTATIONS.map((m) => m.id));
  console.error(`unknown mutation ids: ${wanted.filter((id) => !known.has(id)).join(", ")}`);
  process.exit(2);
}
if (values.list) {
  for (const m of MUTATIONS) console.log(`${m.id.padEnd(34)} ${m.bug}`);
  process.exit(0);
}

/** The pure lane has no global setup (no servers, no bundling): seconds instead of tens of seconds. */
const isUnitTest = (file: string) =>
  /^(src|worker\/src|aggregator\/src)\//.test(file) && !file.endsWith(".integration.test.ts");

/** Tracked and untracked-but-not-ignored files, so uncommitted work is what gets mutated. */
function copyTree(): string {
  const scratch = mkdtempSync(join(tmpdir(), "mutation-"));
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue; // deleted but not yet staged
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    cpSync(join(ROOT, file), join(scratch, file));
  }
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(scratch, "node_modules"));
  return scratch;
}

/** The vitest run in progress, killed with its process group on Ctrl-C. */
let running: ReturnType<typeof spawn> | undefined;

type TestRun = { code: number | null; timedOut: boolean; failed: string[]; passed: number; log: string };

/** Runs vitest on `files` in `cwd`, one lane at a time, and reads its JSON report. */
async function runTests(cwd: string, files: string[]): Promise<TestRun> {
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
    }, MUTANT_TIMEOUT_MS);
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

/** Plants `m` in the tree at `root`; returns why it cannot, or null. */
function apply(root: string, m: Mutation): string | null {
  const path = join(root, m.file);
  if (!existsSync(path)) return `${m.file} does not exist`;
  const source = readFileSync(path, "utf8");
  const at = source.indexOf(m.search);
  if (at === -1) return `search text not found in ${m.file}`;
  if (source.indexOf(m.search, at + 1) !== -1) return `search text occurs more than once in ${m.file}`;
  writeFileSync(path, source.slice(0, at) + m.replace + source.slice(at + m.search.length));
  return null;
}

async function judge(scratch: string, m: Mutation): Promise<Outcome> {
  const started = performance.now();
  const path = join(scratch, m.file);
  const original = existsSync(path) ? readFileSync(path, "utf8") : null;
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const stale = apply(scratch, m);
  if (stale) return { mutation: m, verdict: "stale", seconds: seconds(), detail: stale };
  try {
    const run = await runTests(scratch, m.tests);
    if (run.timedOut) return { mutation: m, verdict: "timeout", seconds: seconds(), detail: "tests hung" };
    if (run.failed.length > 0)
      return { mutation: m, verdict: "killed", seconds: seconds(), detail: run.failed[0] as string };
    if (run.code === 0 && run.passed > 0)
      return { mutation: m, verdict: "survived", seconds: seconds(), detail: `${run.passed} tests passed` };
    return {
      mutation: m,
      verdict: "error",
      seconds: seconds(),
      detail: run.log.split("\n").slice(-15).join("\n"),
    };
  } finally {
    if (original !== null) writeFileSync(path, original);
  }
}

/** Runs the baseline and every mutant; returns the process exit code. */
async function main(scratch: string): Promise<number> {
  const started = performance.now();
  if (!values["no-baseline"]) {
    // Every test file must pass unmutated, or a "killed" would mean nothing.
    const files = [...new Set(mutations.flatMap((m) => m.tests))];
    console.log(`baseline: ${files.length} test files, unmutated`);
    const base = await runTests(scratch, files);
    if (base.code !== 0 || base.timedOut) {
      console.error(
        `baseline failed: ${base.failed.join("; ") || base.log.split("\n").slice(-15).join("\n")}`,
      );
      return 1;
    }
    console.log(`baseline passed in ${Math.round((performance.now() - started) / 1000)} s`);
  }
  const outcomes: Outcome[] = [];
  for (const m of mutations) {
    const outcome = await judge(scratch, m);
    outcomes.push(outcome);
    console.log(
      `${outcome.verdict.padEnd(8)} ${m.id.padEnd(34)} ${String(outcome.seconds).padStart(6)} s  ${outcome.detail}`,
    );
  }
  const killed = outcomes.filter((o) => o.verdict === "killed" || o.verdict === "timeout").length;
  const survived = outcomes.filter((o) => o.verdict === "survived").length;
  const broken = outcomes.filter((o) => o.verdict === "stale" || o.verdict === "error");
  const score = killed + survived === 0 ? 0 : killed / (killed + survived);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(
    `\nscore ${(score * 100).toFixed(1)}% (${killed} killed, ${survived} survived, ${broken.length} stale or broken)` +
      ` in ${minutes} min; floor ${(SCORE_FLOOR * 100).toFixed(0)}%`,
  );
  if (broken.length > 0)
    console.error(`fix or update these mutations: ${broken.map((o) => o.mutation.id).join(", ")}`);
  return score < SCORE_FLOOR || broken.length > 0 ? 1 : 0;
}

if (values.check) {
  // Counts each search text in the working tree; plants nothing.
  const stale = mutations.flatMap((m) => {
    const path = join(ROOT, m.file);
    const source = existsSync(path) ? readFileSync(path, "utf8") : "";
    const count = source.split(m.search).length - 1;
    return count === 1 ? [] : [`${m.id}: search text found ${count} times in ${m.file}`];
  });
  for (const line of stale) console.error(line);
  console.log(`${mutations.length - stale.length} of ${mutations.length} mutations apply`);
  process.exit(stale.length > 0 ? 1 : 0);
}

const scratch = copyTree();
process.on("SIGINT", () => {
  if (running?.pid) process.kill(-running.pid, "SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
  process.exit(130);
});
try {
  process.exitCode = await main(scratch);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
