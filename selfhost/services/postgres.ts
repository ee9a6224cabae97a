import { execFile, execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { generateSecret } from "../secrets";
import { freePort } from "./free-port";
import { watchPostmaster } from "./postmaster-watch";

export type PostgresServer = {
  port: number;
  /** Superuser URL of the `postgres` database, password included (no TLS: loopback only). */
  url: string;
  /** Fast shutdown; the data stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
  /** Calls `listener` when the server dies without `stop()` (selfhost/supervisor.ts). */
  onCrash(listener: (reason: string) => void): void;
  /** Stops the server and removes its temporary directory (not a caller's `dataDir`). */
  dispose(): Promise<void>;
  /** Creates a database, optionally as a copy of `template`, and returns its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
};

const run = promisify(execFile);

/**
 * `durable`: Postgres's stock settings, for data that must survive a crash.
 * `off-for-tests`: no fsync, no synchronous commit, no full-page writes: a throwaway
 * server for tests and benchmarks, which lose everything on a power cut.
 */
export type Durability = "durable" | "off-for-tests";

/** The settings `off-for-tests` turns off; left out, Postgres keeps its safe defaults. */
const UNSAFE_FOR_DATA = ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"];

function findBinDir(): string {
  const onPath = (process.env.PATH ?? "").split(":").find((dir) => dir && existsSync(join(dir, "pg_ctl")));
  if (onPath && existsSync(join(onPath, "initdb"))) return onPath;
  const root = "/usr/lib/postgresql";
  const newest = (existsSync(root) ? readdirSync(root) : [])
    .filter((version) => existsSync(join(root, version, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return join(root, newest, "bin");
  throw new Error(
    "PostgreSQL server binaries (initdb, pg_ctl) are neither on PATH nor in /usr/lib/postgresql/*/bin: " +
      "apt-get install postgresql",
  );
}

/**
 * Postgres refuses to run as root, so as root its tools run as the `postgres` user
 * (created by the Debian package) and the directories it writes are handed to it.
 */
function userCommand(): { argv(cmd: string, args: string[]): [string, string[]]; own(path: string): void } {
  if (process.getuid?.() !== 0) return { argv: (cmd, args) => [cmd, args], own: () => {} };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
  } catch {
    throw new Error("running as root needs a `postgres` OS user to run Postgres: apt-get install postgresql");
  }
  return {
    argv: (cmd, args) => ["runuser", ["-u", "postgres", "--", cmd, ...args]],
    own: (path) => chownSync(path, uid, gid),
  };
}

/**
 * Starts PostgreSQL on 127.0.0.1 with data in a temporary directory, or in `dataDir`
 * (initialised on first use and kept). The `postgres` superuser needs `password`
 * (scram-sha-256, also over the local socket), set when the data directory is created;
 * a random one when left out. Durable unless `durability: "off-for-tests"`. Works as
 * root (runs as the `postgres` user) and as any other user. Stopped with
 * `-m immediate` if this process exits without disposing it.
 *
 * @example
 *   const postgres = await startPostgres({ durability: "off-for-tests" });
 *   const url = await postgres.createDatabase("t1", "template_migrated");
 *   …
 *   await postgres.dispose();
 */
export async function startPostgres(
  opts: { port?: number; dataDir?: string; password?: string; durability?: Durability } = {},
): Promise<PostgresServer> {
  const bin = findBinDir();
  const as = userCommand();
  const temp = mkdtempSync(join(tmpdir(), "pg-"));
  chmodSync(temp, 0o700);
  as.own(temp);
  const data = opts.dataDir ? resolve(opts.dataDir) : join(temp, "data");
  const password = opts.password ?? generateSecret();
  const durability = opts.durability ?? "durable";
  const exec: Exec = async (tool, args) => {
    const [cmd, argv] = as.argv(join(bin, tool), args);
    // cwd: the postgres user may not be allowed into ours (root's home, say).
    await run(cmd, argv, { cwd: temp });
  };

  if (!existsSync(join(data, "PG_VERSION"))) {
    await initDataDir({ exec, as, temp, data, password, durability, create: Boolean(opts.dataDir) });
  }

  const server = postmaster({ exec, temp, data, durability, port: opts.port ?? (await freePort()) });
  // pg_ctl daemonises the server: without this it would outlive a crashed test run.
  // A fast shutdown (a checkpoint, no crash recovery at the next start) bounded to 5 s, then an
  // immediate one; committed transactions are on disk either way.
  const stopOnExit = () => {
    const pgCtl = (mode: string, wait: string[]) => {
      const [cmd, argv] = as.argv(join(bin, "pg_ctl"), [...wait, "-D", data, "-m", mode, "stop"]);
      return spawnSync(cmd, argv, { cwd: temp, stdio: "ignore", timeout: 10_000 }).status;
    };
    if (pgCtl("fast", ["-w", "-t", "5"]) !== 0) pgCtl("immediate", []);
    rmSync(temp, { recursive: true, force: true });
  };
  process.on("exit", stopOnExit);
  try {
    await startOnFreePort(server, Boolean(opts.port));
  } catch (error) {
    process.off("exit", stopOnExit);
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }

  // Generated passwords are URL-safe; one from the environment may not be.
  const urlOf = (db: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${db}?sslmode=disable`;
  return {
    port: server.port,
    url: urlOf("postgres"),
    start: server.start,
    stop: server.stop,
    onCrash: server.onCrash,
    async dispose() {
      await server.stop().catch(() => {});
      process.off("exit", stopOnExit);
      rmSync(temp, { recursive: true, force: true });
    },
    createDatabase: (name, template) => createDatabase(urlOf, name, template),
  };
}

/** Runs one of Postgres's tools (initdb, pg_ctl) as the user Postgres runs as. */
type Exec = (tool: string, args: string[]) => Promise<void>;

/** Creates the data directory (`create`: a caller's, not yet there) and the `postgres` superuser. */
async function initDataDir({
  exec,
  as,
  temp,
  data,
  password,
  durability,
  create,
}: {
  exec: Exec;
  as: ReturnType<typeof userCommand>;
  temp: string;
  data: string;
  password: string;
  durability: Durability;
  create: boolean;
}): Promise<void> {
  if (create) {
    mkdirSync(data, { recursive: true, mode: 0o700 });
    as.own(data);
  }
  // initdb reads the password from a file, so it never shows in a process listing.
  const pwfile = join(temp, "pwfile");
  writeFileSync(pwfile, password, { mode: 0o600 });
  as.own(pwfile);
  // C.UTF-8 is Neon's default collation too.
  await exec("initdb", [
    "-D",
    data,
    "--auth=scram-sha-256",
    `--pwfile=${pwfile}`,
    "-U",
    "postgres",
    ...(durability === "durable" ? [] : ["--no-sync"]),
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]).finally(() => rmSync(pwfile, { force: true }));
}

type Postmaster = ReturnType<typeof postmaster>;

/** pg_ctl start and stop of the server on `data` at `port`, and who to tell when it dies unasked. */
function postmaster(cfg: { exec: Exec; temp: string; data: string; durability: Durability; port: number }) {
  const { exec, temp, data, durability } = cfg;
  const log = join(temp, "postgres.log");
  const crashListeners: Array<(reason: string) => void> = [];
  let unwatch = () => {};
  const server = {
    port: cfg.port,
    async start() {
      unwatch();
      const options = [
        `-p ${server.port}`,
        `-k ${temp}`,
        "-c listen_addresses=127.0.0.1",
        ...(durability === "durable" ? [] : UNSAFE_FOR_DATA),
        "-c max_connections=200",
      ].join(" ");
      try {
        await exec("pg_ctl", ["-w", "-D", data, "-l", log, "-o", options, "start"]);
        unwatch = watchPostmaster(data, () => {
          for (const listener of crashListeners) listener("postmaster is gone");
        });
      } catch (error) {
        const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-15).join("\n") : "";
        throw new Error(`${(error as Error).message}\n--- ${log} ---\n${tail}`);
      }
    },
    stop() {
      unwatch();
      return exec("pg_ctl", ["-w", "-D", data, "-m", "fast", "stop"]);
    },
    onCrash: (listener: (reason: string) => void) => void crashListeners.push(listener),
  };
  return server;
}

/** Starts `server`, on another free port when a `fixedPort` was not asked for and its port was taken. */
async function startOnFreePort(server: Postmaster, fixedPort: boolean): Promise<void> {
  // freePort() can race with another process taking the port before Postgres binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await server.start();
    } catch (error) {
      if (fixedPort || attempt === 3 || !/already in use/.test((error as Error).message)) throw error;
      server.port = await freePort();
    }
  }
}

async function createDatabase(
  urlOf: (db: string) => string,
  name: string,
  template?: string,
): Promise<string> {
  const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;
  const client = new pg.Client({ connectionString: urlOf("postgres") });
  await client.connect();
  try {
    await client.query(`create database ${quote(name)}${template ? ` template ${quote(template)}` : ""}`);
  } finally {
    await client.end();
  }
  return urlOf(encodeURIComponent(name));
}
