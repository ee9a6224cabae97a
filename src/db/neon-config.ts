import { neonConfig } from "@neondatabase/serverless";

/**
 * Points the Neon driver at a plain Postgres through the project's WebSocket-to-TCP
 * proxy (local runs, tests, self-host). Without `wsProxy` the driver keeps its
 * defaults for Neon. Settings measured to matter against a plain Postgres: no TLS on
 * the socket or in Postgres, and no pipelined connect (it assumes Neon's auth flow).
 */
export function configureNeon(opts: { wsProxy?: string }): void {
  if (!opts.wsProxy) return;
  const proxy = opts.wsProxy;
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}
