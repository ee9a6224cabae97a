/**
 * The WebSocket-to-TCP proxy the Neon serverless driver needs to reach a plain Postgres
 * (Neon runs one in front of every database). With `configureNeon({ wsProxy: proxy.url })`
 * the driver opens `ws://<proxy.url>?address=<host>:<port>`; each WebSocket becomes one
 * TCP connection to that address, with binary frames piped both ways.
 *
 * It is a door into the network it runs in, so it opens only to one `target` (the
 * Postgres `host:port`), only for callers that know the deployment's token, and never
 * for a browser. The token is a path segment (`/v2/<token>`) because a Workers WebSocket
 * client cannot add headers, and `proxy.url` (the DB_WS_PROXY value) carries it.
 *
 * @example
 *   const proxy = await startWsProxy({ target: "127.0.0.1:5432", token });   // DB_WS_PROXY = proxy.url
 *   configureNeon({ wsProxy: proxy.url });
 *   …
 *   await proxy.close();
 *
 * CLI: PORT=5433 TARGET=postgres:5432 INTERNAL_TOKEN=… [HOST=0.0.0.0] tsx selfhost/ws-proxy.ts
 */
import { connect } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { runServiceIfMain } from "./entry-point";
import { type ServiceHandle, startHttpService } from "./http-service";
import { requireToken, tokensEqual } from "./internal-auth";

export type WsProxy = ServiceHandle & {
  /** `host:port/v2/<token>`, without a scheme: the value for DB_WS_PROXY (a secret, since it holds the token). */
  url: string;
  /** Connections asked of the proxy so far, refused ones included: each is a Neon driver trying Postgres. */
  readonly requested: number;
  /** Drops every connection and refuses new ones (503): Postgres looks unreachable. */
  pause(): void;
  resume(): void;
};

const PATH_PREFIX = "/v2/";
// Above this many bytes queued towards the client, stop reading from Postgres.
const HIGH_WATER = 1 << 20;

/**
 * Follows the boundaries of the client's Postgres messages and reports when a Terminate
 * ('X') has gone through. Postgres closes the connection on Terminate, PGlite's socket
 * server does not, and the Neon driver never closes its WebSocket itself (its socket's
 * `write` drops the callback pg's `end()` waits on): so without this, `Client.end()`
 * hangs against PGlite.
 */
function terminateWatcher(): (chunk: Buffer) => boolean {
  let startup = true;
  let header = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      // Startup-phase messages (SSLRequest, StartupMessage) have no type byte.
      const size = startup ? 8 : 5;
      const take = Math.min(size - header.length, chunk.length - offset);
      header = Buffer.concat([header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (header.length < size) break;
      if (startup) {
        if (header.readInt32BE(4) >> 16 === 3) startup = false;
        skip = header.readInt32BE(0) - 8;
      } else {
        if (header[0] === 0x58) return true;
        skip = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
    }
    return false;
  };
}

function pipe(ws: WebSocket, host: string, port: number, connections: Set<() => void>): void {
  const tcp = connect(port, host);
  tcp.setNoDelay(true);
  const drop = () => {
    tcp.destroy();
    ws.terminate();
  };
  connections.add(drop);

  const terminated = terminateWatcher();
  // Writes made while the TCP socket is still connecting are queued by Node.
  ws.on("message", (data: Buffer) => {
    if (terminated(data)) tcp.end(data);
    else if (!tcp.write(data)) {
      ws.pause();
      tcp.once("drain", () => ws.resume());
    }
  });
  tcp.on("data", (chunk) => {
    ws.send(chunk, () => {
      if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER) tcp.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) tcp.pause();
  });

  tcp.on("close", (hadError) => {
    connections.delete(drop);
    if (hadError) ws.terminate();
    else ws.close(1000);
  });
  tcp.on("error", () => {});
  ws.on("close", () => {
    connections.delete(drop);
    tcp.destroy();
  });
  ws.on("error", drop);
}

/** `host:port` of a Postgres connection string: the proxy's target for that database. */
export function postgresAddress(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || "5432"}`;
}

/** The `host:port` the driver asks for, lower-cased, with IPv6 brackets removed. */
const normalAddress = (address: string) => address.toLowerCase().replace(/^\[(.*)\](:\d+)$/, "$1$2");

/** The request's URL, or null if it does not parse (URL.parse is Node 22+; engines allow 20). */
function parseUrl(path: string): URL | null {
  try {
    return new URL(path, "http://proxy");
  } catch {
    return null;
  }
}

/** Why an upgrade request is refused, as an HTTP status line; null to let it through. */
function refusal(url: URL, origin: string | undefined, pathToken: string, target: string): string | null {
  const presented = url.pathname.startsWith(PATH_PREFIX) ? url.pathname.slice(PATH_PREFIX.length) : "";
  if (!tokensEqual(presented, pathToken)) return "401 Unauthorized";
  // Browsers always send Origin; the Neon driver (Workers or Node `ws`) never does.
  if (origin !== undefined) return "403 Forbidden";
  if (normalAddress(url.searchParams.get("address") ?? "") !== target) return "403 Forbidden";
  return null;
}

/** Starts the proxy in front of one Postgres, `target` (`host:port`); refuses to start without a token. */
export async function startWsProxy(opts: {
  target: string;
  token: string;
  port?: number;
  host?: string;
}): Promise<WsProxy> {
  // Compared as it appears in the path, so nothing is decoded before the check.
  const pathToken = encodeURIComponent(requireToken(opts.token, "ws proxy"));
  const target = normalAddress(opts.target);
  const [, targetHost, targetPort] = /^(.+):(\d+)$/.exec(target) ?? [];
  if (!targetHost || !targetPort) throw new Error(`ws proxy: target must be host:port, got "${opts.target}"`);
  const host = opts.host ?? "127.0.0.1";
  const connections = new Set<() => void>();
  let paused = false;
  let requested = 0;
  const wss = new WebSocketServer({ noServer: true });
  // No bearer check here: a Workers WebSocket cannot send headers, so the token is checked in the path.
  const http = await startHttpService({
    port: opts.port,
    host,
    handle: () => [426, "WebSocket only"],
    onUpgrade(req, socket, head) {
      socket.on("error", () => {});
      requested++;
      // A request line such as `GET http://[ HTTP/1.1` passes Node's parser but not URL's.
      const url = parseUrl(req.url ?? "/");
      const refused = !url
        ? "400 Bad Request"
        : paused
          ? "503 Service Unavailable"
          : refusal(url, req.headers.origin, pathToken, target);
      if (refused) {
        socket.end(`HTTP/1.1 ${refused}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => pipe(ws, targetHost, Number(targetPort), connections));
    },
  });
  const dropAll = () => {
    for (const drop of connections) drop();
    connections.clear();
  };
  const reachableHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `${reachableHost}:${http.port}${PATH_PREFIX}${pathToken}`,
    port: http.port,
    get requested() {
      return requested;
    },
    pause() {
      paused = true;
      dropAll();
    },
    resume() {
      paused = false;
    },
    close: () => {
      // Upgraded sockets are no longer the HTTP server's to close.
      dropAll();
      wss.close();
      return http.close();
    },
  };
}

await runServiceIfMain(import.meta.url, { port: 5433 }, async (env) => {
  const target = process.env.TARGET ?? "";
  const proxy = await startWsProxy({ port: env.port, host: env.host, target, token: env.internalToken });
  return { service: proxy, started: `neon ws proxy on port ${proxy.port} → ${target}` };
});
