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
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MUTATIONS, SCORE_FLOOR } from "../test/mutations";
import type { Mutation } from "../test/mutations/types";
import { plant, whyStale } from "./mutation/plant";
import { copyTree } from "./mutation/scratch-tree";
import { killRunning, runTests } from "./mutation/vitest-run";

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

/** Plants one mutation in the scratch tree, runs its tests, and restores the file whatever happens. */
async function judge(scratch: string, m: Mutation): Promise<Outcome> {
  const started = performance.now();
  const path = join(scratch, m.file);
  const original = existsSync(path) ? readFileSync(path, "utf8") : null;
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const stale = plant(scratch, m);
  if (stale) return { mutation: m, verdict: "stale", seconds: seconds(), detail: stale };
  try {
    const run = await runTests(scratch, m.tests, MUTANT_TIMEOUT_MS);
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
    const base = await runTests(scratch, files, MUTANT_TIMEOUT_MS);
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
    const why = whyStale(ROOT, m);
    return why ? [`${m.id}: ${why}`] : [];
  });
  for (const line of stale) console.error(line);
  console.log(`${mutations.length - stale.length} of ${mutations.length} mutations apply`);
  process.exit(stale.length > 0 ? 1 : 0);
}

const scratch = copyTree(ROOT);
process.on("SIGINT", () => {
  killRunning();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(130);
});
try {
  process.exitCode = await main(scratch);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
