/**
 * The HTTP server every internal service of the self-hosted cluster runs on (KV service, queue broker,
 * Upstash REST gateway, ws-proxy, shipper metrics): listen, the internal-token check
 * (selfhost/internal-auth.ts), JSON answers, errors translated in one place, and close.
 *
 * @example
 *   const http = await startHttpService({
 *     auth: { token, service: "queue broker", refusal: [401, { error: "unauthorized" }] },
 *     handle: async (req) => [200, await stats()],
 *     onError: (err) => [503, { error: err.message }],
 *   });
 *   http.url; // http://127.0.0.1:<free port>
 *   await http.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { bearerCheck } from "./internal-auth";

/** What every started service hands back; services add their own members. */
export type ServiceHandle = { url: string; port: number; close(): Promise<void> };

/** A status and a body: a string is sent as text/plain, anything else as JSON, undefined as no body. */
export type Answer = [status: number, body?: unknown];

/** Answers a request, or writes the response itself (raw bodies, own headers) and returns nothing. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<Answer | undefined> | Answer | undefined;

export type HttpServiceOptions = {
  handle: Handler;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * `Authorization: Bearer <token>` on every request; the service refuses to start without a token.
   * Omit only where the secret travels another way (ws-proxy: in the upgrade's path).
   */
  auth?: {
    token: string;
    /** Names the service in the error a missing token raises. */
    service: string;
    /** The answer without the token (default a bare 401): each keeps the shape its clients expect. */
    refusal?: Answer;
    /** Paths answered without the token: a health check, or every path but the one that needs it. */
    open?: (path: string) => boolean;
  };
  /** Turns a thrown error into an answer; default 500 with the message. */
  onError?: (err: Error) => Answer;
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * How long close() lets requests in flight finish before dropping their connections (the queue
   * broker's appends); default 0: every connection is dropped at once.
   */
  drainMs?: number;
};

/** Starts listening; resolves once the port is bound and rejects if it cannot be (say, it is taken). */
export async function startHttpService(opts: HttpServiceOptions): Promise<ServiceHandle> {
  const authorized = opts.auth ? bearerCheck(opts.auth.token, opts.auth.service) : () => true;
  const open = opts.auth?.open;
  const refusal = opts.auth?.refusal ?? [401];
  const onError = opts.onError ?? ((err: Error): Answer => [500, { error: err.message }]);

  // The path is parsed only for services with open paths: each uncached redirect reads from the KV service.
  const isOpen = (req: IncomingMessage) =>
    open?.(new URL(req.url ?? "/", "http://service").pathname) ?? false;
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    if (!isOpen(req) && !authorized(req)) return refusal;
    return opts.handle(req, res);
  };
  // The work is not tied to the request: a client that goes away mid-way does not cancel it.
  // Nothing a request does may throw out of here: the service may share its process with others (the runner).
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => answer(req, res))
      .then(
        (result) => result && send(res, result),
        (err: Error) => send(res, safeAnswer(onError, err)),
      )
      .catch((err: Error) => {
        console.error(`http service: answering ${req.method} ${req.url}: ${err.message}`);
        res.destroy();
      });
  });
  const onUpgrade = opts.onUpgrade;
  if (onUpgrade) {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        onUpgrade(req, socket, head);
      } catch (err) {
        console.error(`http service: upgrade ${req.url}: ${(err as Error).message}`);
        socket.on("error", () => {});
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      }
    });
  }

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  let closing: Promise<void> | undefined;
  const close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (!opts.drainMs) {
      server.closeAllConnections();
      return closed;
    }
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), opts.drainMs);
    await closed;
    clearTimeout(force);
  };
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** `onError`'s answer, or a bare 500 if it throws itself. */
function safeAnswer(onError: (err: Error) => Answer, err: Error): Answer {
  try {
    return onError(err);
  } catch {
    return [500, { error: err.message }];
  }
}

/** Writes `[status, body]` unless the client has gone. */
export function send(res: ServerResponse, [status, body]: Answer): void {
  if (res.destroyed || res.headersSent) return;
  if (body === undefined) return void res.writeHead(status).end();
  const text = typeof body === "string";
  res
    .writeHead(status, { "Content-Type": text ? "text/plain" : "application/json" })
    .end(text ? body : JSON.stringify(body));
}
