import { connect, createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handshake } from "../test/ws-handshake";
import { startWsProxy, type WsProxy } from "./ws-proxy";

/** Stand-ins for Postgres (the proxy's target) and for another local service (Redis, say). */
let postgres: Server;
let other: Server;
let proxy: WsProxy;
const TOKEN = "proxy-test-token";

const listen = async (): Promise<Server> => {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
};
const portOf = (server: Server) => (server.address() as { port: number }).port;

beforeAll(async () => {
  [postgres, other] = await Promise.all([listen(), listen()]);
  proxy = await startWsProxy({ target: `127.0.0.1:${portOf(postgres)}`, token: TOKEN });
});
afterAll(async () => {
  await proxy?.close();
  postgres?.close();
  other?.close();
});

const port = () => proxy.port;
const toPostgres = () => `address=127.0.0.1:${portOf(postgres)}`;

describe("Neon WebSocket proxy access", () => {
  it("refuses a connection without the token or with a wrong one, and relays with the right one", async () => {
    expect(await handshake(`ws://127.0.0.1:${port()}/v2?${toPostgres()}`)).toBe(401);
    expect(await handshake(`ws://127.0.0.1:${port()}/v2/wrong-token?${toPostgres()}`)).toBe(401);
    expect(await handshake(`ws://${proxy.url}?${toPostgres()}`)).toBe("open");
  });

  it("connects only to its Postgres, not to another port of the same host", async () => {
    expect(await handshake(`ws://${proxy.url}?address=127.0.0.1:${portOf(other)}`)).toBe(403);
    expect(await handshake(`ws://${proxy.url}?address=example.com:${portOf(postgres)}`)).toBe(403);
  });

  it("refuses requests a browser makes (with an Origin), even with the token", async () => {
    expect(await handshake(`ws://${proxy.url}?${toPostgres()}`, { Origin: "https://evil.example" })).toBe(
      403,
    );
  });

  it("does not start without a token or a target", async () => {
    await expect(startWsProxy({ target: "127.0.0.1:5432", token: "" })).rejects.toThrow(/token/);
    await expect(startWsProxy({ target: "", token: TOKEN })).rejects.toThrow(/target/);
  });
});

/** Sends `request` over a raw TCP socket; the status line of the answer ("" if none within 3 s). */
function rawRequest(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port(), "127.0.0.1", () => socket.write(request));
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    socket.setTimeout(3000, () => socket.destroy());
    socket.on("close", () => resolve(text.split("\r\n")[0] ?? ""));
  });
}

describe("Neon WebSocket proxy robustness", () => {
  it("answers 400 to an upgrade whose URL does not parse, and keeps serving", async () => {
    const status = await rawRequest(
      "GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    expect(status).toMatch(/^HTTP\/1\.1 400 /);
    expect(await handshake(`ws://${proxy.url}?${toPostgres()}`)).toBe("open");
  });
});
