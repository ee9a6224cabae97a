/**
 * The queue broker's HTTP surface (selfhost/queue-broker.ts), what workerd's Queue binding sends
 * (RUNTIME-NOTES): `POST /message` (`X-Msg-Fmt: json|text|bytes`; v8 is refused) and `POST /batch`
 * (base64 bodies); for operators `GET /stats` and `POST /replay-dlq`. Every route needs
 * `Authorization: Bearer <token>` (selfhost/internal-auth.ts): a forged `/message` is a forged click.
 * A 200 to a send means stored: the store's append has returned.
 */
import type { IncomingMessage } from "node:http";
import { type Answer, type ServiceHandle, startHttpService } from "../http-service";
import { readBody } from "../services/http";
import type { Stored, StreamStore } from "./store";

class BadRequest extends Error {}

/** Serves the broker's routes over `store` until `close()`, which lets appends in flight finish (up to 2 s). */
export function serveBroker(opts: {
  store: StreamStore;
  token: string;
  port?: number;
  host?: string;
}): Promise<ServiceHandle> {
  const { store } = opts;
  async function route(req: IncomingMessage): Promise<Answer> {
    const path = new URL(req.url ?? "/", "http://broker").pathname;
    if (req.method === "GET" && path === "/stats") return [200, await store.stats()];
    if (req.method === "POST" && path === "/replay-dlq")
      return [200, { replayed: await store.replayDeadLetters() }];
    if (req.method !== "POST" || (path !== "/message" && path !== "/batch"))
      return [404, { error: "not found" }];
    const raw = await readBody(req).catch((err: Error) => {
      throw new BadRequest(err.message);
    });
    const messages = path === "/message" ? [decode(raw, req.headers["x-msg-fmt"])] : decodeBatch(raw);
    const backlogCount = await store.append(messages);
    // workerd's Queue binding throws in the caller unless the answer has this shape.
    return [200, { metadata: { metrics: { backlogCount, backlogBytes: 0, oldestMessageTimestamp: 0 } } }];
  }
  return startHttpService({
    port: opts.port,
    host: opts.host,
    auth: { token: opts.token, service: "queue broker", refusal: [401, { error: "unauthorized" }] },
    handle: route,
    // Anything but a bad request is Redis not storing the message in time.
    onError: (err) => [err instanceof BadRequest ? 400 : 503, { error: err.message }],
    drainMs: 2000,
  });
}

/** One message body in the format workerd announced; v8 (the default without a format) is refused. */
function decode(raw: Buffer, format: string | string[] | undefined): Stored {
  if (format === "json") {
    const text = raw.toString("utf8");
    try {
      JSON.parse(text);
    } catch {
      throw new BadRequest("message body is not valid JSON");
    }
    return { body: text, type: "json" };
  }
  if (format === "text") return { body: raw.toString("utf8"), type: "text" };
  if (format === "bytes") return { body: raw.toString("base64"), type: "bytes" };
  throw new BadRequest(`message format ${format ?? "v8"} is not supported: send with contentType "json"`);
}

function decodeBatch(raw: Buffer): Stored[] {
  let parsed: { messages?: Array<{ body?: unknown; contentType?: string }> };
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new BadRequest("batch is not valid JSON");
  }
  if (!Array.isArray(parsed?.messages)) throw new BadRequest("batch.messages must be a list");
  return parsed.messages.map((m) => decode(Buffer.from(String(m?.body ?? ""), "base64"), m?.contentType));
}
