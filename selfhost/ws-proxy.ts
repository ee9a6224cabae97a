/**
 * The WebSocket-to-TCP proxy the Neon serverless driver needs to reach a plain
 * Postgres (Neon runs one in front of every database). The driver opens
 * `ws://<proxy>?address=<host>:<port>`; each WebSocket becomes one TCP connection and
 * binary frames are piped both ways.
 *
 * @example
 *   const proxy = await startWsProxy();          // neon: DB_WS_PROXY = proxy.url
 *   …; await proxy.close();
 * CLI: PORT=5433 [HOST=0.0.0.0] [ALLOWED_HOSTS=postgres] tsx selfhost/ws-proxy.ts
 */
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

export type WsProxy = {
  /** `host:port/v2`, the value for DB_WS_PROXY. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Drops every connection and refuses new ones: Postgres looks unreachable. */
  pause(): void;
  resume(): void;
};

export async function startWsProxy(
  opts: { port?: number; host?: string; allowedHosts?: string[] } = {},
): Promise<WsProxy> {
  const host = opts.host ?? "127.0.0.1";
  const allowed = new Set(opts.allowedHosts ?? ["127.0.0.1", "localhost", "::1"]);
  const sockets = new Set<Socket>();
  let paused = false;
  const server = createServer((_req, res) => res.writeHead(426).end("WebSocket only"));
  const wss = new WebSocketServer({ server });

  wss.on("connection", (ws, req) => {
    const address = new URL(req.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const match = /^(.+):(\d+)$/.exec(address);
    if (paused || !match || !allowed.has(match[1] as string)) {
      ws.close(1008, "address not allowed");
      return;
    }
    const tcp = connect(Number(match[2]), match[1] as string);
    tcp.setNoDelay(true);
    sockets.add(tcp);
    const pending: Buffer[] = [];
    tcp.once("connect", () => {
      for (const chunk of pending) tcp.write(chunk);
      pending.length = 0;
    });
    ws.on("message", (data: Buffer) => (tcp.connecting ? pending.push(data) : tcp.write(data)));
    tcp.on("data", (chunk) => ws.send(chunk));
    const end = () => {
      sockets.delete(tcp);
      tcp.destroy();
      ws.terminate();
    };
    tcp.on("close", end);
    tcp.on("error", end);
    ws.on("close", end);
    ws.on("error", end);
  });

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const dropAll = () => {
    for (const ws of wss.clients) ws.terminate();
    for (const s of sockets) s.destroy();
  };
  return {
    url: `${host}:${port}/v2`,
    port,
    pause() {
      paused = true;
      dropAll();
    },
    resume() {
      paused = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const allowedHosts = process.env.ALLOWED_HOSTS?.split(",").map((h) => h.trim());
  const proxy = await startWsProxy({
    port: Number(process.env.PORT ?? 5433),
    host: process.env.HOST,
    allowedHosts,
  });
  console.log(`neon ws proxy on ${proxy.url}`);
}
