import { WebSocket } from "ws";

/** Opens a WebSocket the way the Neon driver does; "open" or the HTTP status that refused it. */
export function handshake(url: string, headers: Record<string, string> = {}): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("open", () => {
      ws.terminate();
      resolve("open");
    });
    ws.once("error", () => {});
  });
}
