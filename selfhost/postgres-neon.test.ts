import { connect, createServer } from "node:net";
import { Client, Pool } from "@neondatabase/serverless";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-serverless";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { configureNeon } from "../shared/db/neon-config";
import { type PostgresServer, startPostgres } from "./services/postgres";
import { postgresAddress, startWsProxy, type WsProxy } from "./ws-proxy";

/** This file's own Postgres, since it stops and restarts it. */
let postgres: PostgresServer;
let proxy: WsProxy;
const TOKEN = "neon-test-token";

beforeAll(async () => {
  postgres = await startPostgres({ durability: "off-for-tests" });
  proxy = await startWsProxy({ target: postgresAddress(postgres.url), token: TOKEN });
  configureNeon({ wsProxy: proxy.url, webSocketConstructor: WebSocket });
});
afterAll(async () => {
  await proxy?.close();
  await postgres?.dispose();
});

/** Runs `fn` with a connected Neon client, closing it whatever happens. */
async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const notes = pgTable("notes", { id: integer("id").primaryKey(), body: text("body").notNull() });

describe("Neon serverless driver through the WebSocket proxy", () => {
  it("creates a table, inserts with parameters and reads the rows back", async () => {
    await withClient(postgres.url, async (client) => {
      await client.query("create table notes (id int primary key, body text not null)");
      await client.query("insert into notes values ($1, $2), ($3, $4)", [1, "héllo 'quoted'", 2, "two"]);
      const { rows } = await client.query("select id, body from notes order by id");
      expect(rows).toEqual([
        { id: 1, body: "héllo 'quoted'" },
        { id: 2, body: "two" },
      ]);
    });
  });

  it("keeps committed work and discards rolled-back work", async () => {
    await withClient(postgres.url, async (client) => {
      await client.query("begin");
      await client.query("insert into notes values ($1, $2)", [3, "rolled back"]);
      expect((await client.query("select count(*)::int as n from notes")).rows[0].n).toBe(3);
      await client.query("rollback");
      await client.query("begin");
      await client.query("insert into notes values ($1, $2)", [4, "committed"]);
      await client.query("commit");
      const { rows } = await client.query("select id from notes order by id");
      expect(rows.map((r) => r.id)).toEqual([1, 2, 4]);
    });
  });

  it("serves drizzle-orm's neon-serverless adapter over a Pool", async () => {
    const pool = new Pool({ connectionString: postgres.url, connectionTimeoutMillis: 2000, max: 2 });
    pool.on("error", () => {});
    try {
      const db = drizzle(pool);
      await db.insert(notes).values({ id: 5, body: "from drizzle" });
      expect(await db.select().from(notes).where(eq(notes.id, 5))).toEqual([{ id: 5, body: "from drizzle" }]);
    } finally {
      await pool.end();
    }
  });

  it("ends a client whose server leaves the socket open after Terminate, as PGlite does", async () => {
    const lingering = createServer((socket) => {
      const upstream = connect(postgres.port, "127.0.0.1");
      socket.pipe(upstream);
      upstream.pipe(socket, { end: false });
      socket.on("error", () => {});
      upstream.on("error", () => {});
    });
    await new Promise<void>((resolve) => lingering.listen(0, "127.0.0.1", resolve));
    const { port } = lingering.address() as { port: number };
    // A proxy of its own, since a proxy reaches only its one Postgres.
    const lingeringProxy = await startWsProxy({ target: `127.0.0.1:${port}`, token: TOKEN });
    configureNeon({ wsProxy: lingeringProxy.url });
    try {
      const client = new Client({
        connectionString: postgres.url.replace(`:${postgres.port}/`, `:${port}/`),
      });
      await client.connect();
      expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      const ended = await Promise.race([
        client.end().then(() => "ended"),
        new Promise((resolve) => setTimeout(resolve, 2000, "still open after 2 s")),
      ]);
      expect(ended).toBe("ended");
    } finally {
      configureNeon({ wsProxy: proxy.url });
      await lingeringProxy.close();
      lingering.close();
    }
  });

  it("refuses addresses other than its Postgres", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://${proxy.url}?address=example.com:5432`);
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => reject(new Error("the proxy accepted example.com")));
      ws.once("error", () => {});
    });
    expect(status).toBe(403);
  });
});

describe("outages", () => {
  it("fails fast while the proxy is paused and works again after resume", async () => {
    const before = new Client({ connectionString: postgres.url });
    before.on("error", () => {});
    await before.connect();

    proxy.pause();
    // An open connection is cut…
    await expect(before.query("select 1")).rejects.toThrow();
    // …and a new one is refused well within its connect timeout.
    const started = Date.now();
    await expect(withClient(postgres.url, (c) => c.query("select 1"))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);

    proxy.resume();
    const { rows } = await withClient(postgres.url, (c) => c.query("select count(*)::int as n from notes"));
    expect(rows[0].n).toBe(4);
  });

  it("keeps the data across stop() and start() of Postgres", async () => {
    await postgres.stop();
    await expect(withClient(postgres.url, (c) => c.query("select 1"))).rejects.toThrow();
    await postgres.start();
    const { rows } = await withClient(postgres.url, (c) => c.query("select body from notes where id = 4"));
    expect(rows).toEqual([{ body: "committed" }]);
  });
});

describe("createDatabase", () => {
  it("copies a template database, rows included", async () => {
    const templateUrl = await postgres.createDatabase("seeded");
    expect(templateUrl).toBe(postgres.url.replace("/postgres?", "/seeded?"));
    await withClient(templateUrl, async (client) => {
      await client.query("create table seeds (name text)");
      await client.query("insert into seeds values ($1)", ["from the template"]);
    });

    const copyUrl = await postgres.createDatabase("x", "seeded");
    await withClient(copyUrl, async (client) => {
      expect((await client.query("select current_database() as db")).rows[0].db).toBe("x");
      expect((await client.query("select name from seeds")).rows).toEqual([{ name: "from the template" }]);
    });
  });
});
