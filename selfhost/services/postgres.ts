import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port";

export type PostgresServer = {
  port: number;
  /** Superuser URL of the `postgres` database. */
  url: string;
  /** Fast shutdown; data stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
  /** Stops and removes the temporary directory. */
  dispose(): Promise<void>;
  /** Creates a database (optionally from a template) and returns its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
};

function binDir(): string {
  const onPath = spawnSync("sh", ["-c", "command -v pg_ctl"]).stdout?.toString().trim();
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  if (onPath) return onPath.replace(/\/pg_ctl$/, "");
  throw new Error("PostgreSQL is not installed: apt-get install postgresql");
}

/** Postgres refuses to run as root: as root, run its tools as the `postgres` user. */
function runner(): { run(cmd: string, args: string[]): void; owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0)
    return { run: (cmd, args) => void execFileSync(cmd, args, { stdio: "pipe" }) };
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return {
    run: (cmd, args) =>
      void execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" }),
    owner: { uid, gid },
  };
}

/**
 * Starts a throwaway PostgreSQL (Debian's binaries) on 127.0.0.1 with trust auth,
 * fsync off, in a temporary directory. Killed if this process exits.
 *
 * @example const pg = await startPostgres(); const url = await pg.createDatabase("t1"); … await pg.dispose();
 */
export async function startPostgres(opts: { port?: number } = {}): Promise<PostgresServer> {
  const bin = binDir();
  const port = opts.port ?? (await freePort());
  const { run, owner } = runner();
  const root = mkdtempSync(join(tmpdir(), "pg-"));
  chmodSync(root, 0o700);
  if (owner) chownSync(root, owner.uid, owner.gid);
  const data = join(root, "data");
  run(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const pgCtl = join(bin, "pg_ctl");
  const start = async () => run(pgCtl, ["-w", "-D", data, "-l", join(root, "log"), "-o", options, "start"]);
  const stop = async () => run(pgCtl, ["-w", "-D", data, "-m", "fast", "stop"]);
  process.once("exit", () => {
    spawnSync(
      owner ? "runuser" : pgCtl,
      owner
        ? ["-u", "postgres", "--", pgCtl, "-D", data, "-m", "immediate", "stop"]
        : ["-D", data, "-m", "immediate", "stop"],
    );
  });
  await start();
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}?sslmode=disable`;
  return {
    port,
    url: url("postgres"),
    start,
    stop,
    async dispose() {
      await stop().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
    async createDatabase(name, template) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        await client.query(`create database "${name}"${template ? ` template "${template}"` : ""}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}
