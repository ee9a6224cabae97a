import { neonConfig } from "@neondatabase/serverless";

/**
 * Points the Neon driver at a plain Postgres through the project's WebSocket-to-TCP proxy
 * (`selfhost/ws-proxy.ts`: local runs, tests, self-host). Without `wsProxy` the driver
 * keeps its defaults for Neon. `webSocketConstructor` is for Node, which has no global
 * WebSocket before v22 (pass `ws`); Workers have one.
 *
 * Against a plain Postgres: no TLS on the WebSocket (the proxy speaks `ws:`), none inside
 * the Postgres protocol either, and no pipelined connect: the driver's default sends the
 * password before the server asks for it, which only Neon's proxy accepts.
 *
 * @example configureNeon({ wsProxy: env.DB_WS_PROXY }); // "127.0.0.1:5433/v2"
 */
export function configureNeon(opts: { wsProxy?: string; webSocketConstructor?: unknown }): void {
  if (opts.webSocketConstructor) {
    neonConfig.webSocketConstructor = opts.webSocketConstructor as typeof neonConfig.webSocketConstructor;
  }
  if (!opts.wsProxy) return;
  const proxy = opts.wsProxy;
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}
