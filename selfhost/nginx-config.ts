/**
 * nginx in front of the edge replicas: least_conn, passive health checks, and
 * retries on another replica when one fails — for idempotent requests only (nginx
 * never retries a POST or PATCH unless told to), so a redirect survives a replica's
 * death and a create is never applied twice.
 */
import { invalidHost } from "@shared/domains/host";

export function nginxConfig(opts: {
  /** `port` (local runs, loopback only) or `0.0.0.0:port` (Compose). */
  listen: string;
  /** host:port of each replica. */
  replicas: Array<{ address: string; down?: boolean }>;
  /** Directory for pid, logs and temp files. */
  prefix: string;
  statusPort?: number;
  /** The user workers run as; root only for a local run started as root. */
  user?: string;
}): string {
  const servers = opts.replicas
    .map((r) => `    server ${r.address} max_fails=1 fail_timeout=2s${r.down ? " down" : ""};`)
    .join("\n");
  return `worker_processes 1;
${opts.user ? `user ${opts.user};\n` : ""}pid ${opts.prefix}/nginx.pid;
error_log ${opts.prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${opts.prefix}/body;
  proxy_temp_path ${opts.prefix}/proxy;
  fastcgi_temp_path ${opts.prefix}/fastcgi;
  uwsgi_temp_path ${opts.prefix}/uwsgi;
  scgi_temp_path ${opts.prefix}/scgi;
  upstream edge {
    least_conn;
${servers}
    keepalive 64;
  }
  server {
    listen ${opts.listen};
    # Every Host goes through unchanged: the replicas pick the short domain from their domain table.
    # Only an HTTP/1.0 request without one (nginx itself refuses an HTTP/1.1 one) is answered here, as a
    # problem: passed on, it would reach workerd with no Host at all.
    if ($http_host = "") { rewrite ^ /__no_host last; }
    location = /__no_host {
      internal;
      default_type application/problem+json;
      return 400 '${JSON.stringify(invalidHost("empty").toBody())}';
    }
    location / {
      proxy_pass http://edge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      # Client-address and country headers come from nginx alone: the client's own are replaced
      # or dropped (an empty value is not sent), so rotating them cannot escape the per-IP limit.
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header CF-Connecting-IP "";
      proxy_set_header True-Client-IP "";
      proxy_set_header Forwarded "";
      proxy_set_header CF-IPCountry "";
      # The same id on every retry of one request: the worker derives the click event id from it.
      proxy_set_header X-Request-Id $request_id;
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 10s;
    }
  }${
    opts.statusPort
      ? `
  server {
    listen ${opts.statusPort};
    location /stub_status { stub_status; }
    location /healthz { return 200 "ok\n"; }
  }`
      : ""
  }
}
`;
}
