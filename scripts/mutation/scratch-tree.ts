import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Copies the tree at `root` into a new directory in $TMPDIR, node_modules as a link: tracked
 * and untracked-but-not-ignored files, so uncommitted work is what gets mutated.
 */
export function copyTree(root: string): string {
  const scratch = mkdtempSync(join(tmpdir(), "mutation-"));
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: root,
    encoding: "utf8",
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted but not yet staged
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    cpSync(join(root, file), join(scratch, file));
  }
  symlinkSync(realpathSync(join(root, "node_modules")), join(scratch, "node_modules"));
  return scratch;
}
