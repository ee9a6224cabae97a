import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs promtool from the repository root and returns its output; throws with promtool's
 * own output when it exits non-zero, or a clear message when it is not installed
 * (`.ci/run` installs Debian's prometheus package).
 */
export function promtool(args: string[], input?: string): string {
  try {
    execFileSync("promtool", ["--version"], { stdio: "pipe" });
  } catch {
    throw new Error("promtool is not installed or not on PATH: apt-get install prometheus. CI installs it.");
  }
  try {
    return execFileSync("promtool", args, { cwd: ROOT, encoding: "utf8", stdio: "pipe", input });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} exited with ${e.status}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}
