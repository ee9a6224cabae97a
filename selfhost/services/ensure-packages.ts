import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Makes sure Debian packages the local run needs are installed: installs them with
 * apt-get when running as root, otherwise explains what to install and exits.
 */
export function ensureDebianPackages(needs: Array<{ pkg: string; present: () => boolean }>): void {
  const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
  if (missing.length === 0) return;
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canInstall) {
    console.error(
      `Missing: ${missing.join(", ")}. Install them first, e.g.\n  sudo apt-get install -y ${missing.join(" ")}`,
    );
    process.exit(1);
  }
  console.log(`installing ${missing.join(", ")} with apt-get…`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** True when `command` is on PATH. */
export const onPath = (command: string): boolean =>
  spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
