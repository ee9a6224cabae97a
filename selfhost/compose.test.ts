import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPOSE_REPLICAS, composeNginxConfig } from "../scripts/compose-nginx";
import { COMPOSE_SECRETS } from "./compose-env";
import { TOPOLOGY } from "./topology";
import { AGGREGATOR_VARS, EDGE_VARS } from "./workerd-config";

/**
 * docker-compose.test.yml cannot run here (no Docker engine), so this keeps it honest
 * against the Docker-free runner: the same services, ports, vars and configs.
 */
type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  ports?: string[];
  secrets?: string[];
};
const composeText = readFileSync("docker-compose.test.yml", "utf8");
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string }>;
};
const services = compose.services;
const prometheus = parse(readFileSync("selfhost/prometheus/prometheus.yml", "utf8")) as {
  scrape_configs: Array<{
    job_name: string;
    authorization?: { credentials_file?: string };
    static_configs: Array<{ targets: string[] }>;
  }>;
};

describe("docker-compose.test.yml", () => {
  it("has every component the Docker-free runner starts, plus monitoring", () => {
    for (const name of [...TOPOLOGY, "prometheus", "grafana", "migrate"])
      expect(Object.keys(services)).toContain(name);
    for (const exporter of ["nginx-exporter", "redis-exporter", "postgres-exporter", "node-exporter"]) {
      expect(Object.keys(services)).toContain(exporter);
    }
  });

  it("pins every image to a version", () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/);
    }
  });

  it("waits on health: long-running services have healthchecks, every dependency has a condition", () => {
    const noHealthcheck = [
      "migrate",
      "redis-rest",
      "grafana",
      "nginx-exporter",
      "redis-exporter",
      "postgres-exporter",
      "node-exporter",
    ];
    for (const [name, s] of Object.entries(services)) {
      if (!noHealthcheck.includes(name)) expect(s.healthcheck, name).toBeDefined();
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(Object.keys(services), `${name} → ${dep}`).toContain(dep);
        expect(
          ["service_healthy", "service_completed_successfully", "service_started"],
          `${name} → ${dep}`,
        ).toContain(cond.condition);
        if (services[dep]?.healthcheck) expect(cond.condition, `${name} → ${dep}`).toBe("service_healthy");
      }
    }
  });

  it("runs the three edge replicas on the ports nginx and Prometheus expect", () => {
    const edgePorts = ["edge-1", "edge-2", "edge-3"].map((n) => `${n}:${services[n]?.environment?.PORT}`);
    expect(edgePorts).toEqual(COMPOSE_REPLICAS);
    const edgeJob = prometheus.scrape_configs.find((j) => j.job_name === "edge");
    expect(edgeJob?.static_configs.flatMap((c) => c.targets)).toEqual(COMPOSE_REPLICAS);
    expect(services.aggregator?.environment?.PORT).toBe("8090");
    expect(
      prometheus.scrape_configs.find((j) => j.job_name === "aggregator")?.static_configs[0]?.targets,
    ).toEqual(["aggregator:8090"]);
  });

  it("scrapes only services that exist", () => {
    for (const job of prometheus.scrape_configs) {
      for (const target of job.static_configs.flatMap((c) => c.targets)) {
        const host = target.split(":")[0] as string;
        if (host !== "localhost")
          expect(Object.keys(services), `${job.job_name} → ${target}`).toContain(host);
      }
    }
  });

  it("gives the workers only vars they read", () => {
    // Read by selfhost/container-entry.ts itself, not by the worker.
    const extra = [
      "PORT",
      "KV_ADDRESS",
      "QUEUE_ADDRESS",
      "REPLICA_NAME",
      "SHIPPER_METRICS_PORT",
      "INTERNAL_TOKEN",
    ];
    for (const name of ["edge-1", "edge-2", "edge-3"]) {
      for (const v of Object.keys(services[name]?.environment ?? {}))
        expect([...EDGE_VARS, ...extra], `${name}: ${v}`).toContain(v);
    }
    for (const v of Object.keys(services.aggregator?.environment ?? {}))
      expect([...AGGREGATOR_VARS, "PORT"]).toContain(v);
    expect(services.broker?.environment?.CONSUMER_TOKEN).toBe(
      services.aggregator?.environment?.QUEUE_PUSH_TOKEN,
    );
  });

  it("uses the nginx config the runner's generator makes", () => {
    expect(readFileSync("selfhost/nginx/compose.conf", "utf8")).toBe(composeNginxConfig());
    const conf = composeNginxConfig();
    expect(conf).toContain("least_conn;");
    expect(conf).toContain("proxy_next_upstream error timeout");
    expect(conf).not.toContain("non_idempotent");
  });

  it("ships no default secret: each is required from the environment, none has a fallback", () => {
    const secretName = /TOKEN|SALT|PASSWORD|SECRET|AUTH/;
    const references = [...composeText.matchAll(/\$\{(\w+)(:?[-?+]?)/g)].map((m) => ({
      name: m[1],
      op: m[2],
    }));
    for (const { name, op } of references.filter((r) => secretName.test(r.name ?? "")))
      expect(op, `\${${name}} must be required (:?)`).toBe(":?");
    for (const name of COMPOSE_SECRETS) expect(composeText, name).toContain(`\${${name}:?`);
    // A literal value is a default too: every secret-bearing variable is one reference, and URLs carry one.
    for (const [service, s] of Object.entries(services)) {
      for (const [name, value] of Object.entries(s.environment ?? {})) {
        if (secretName.test(name)) expect(value, `${service}: ${name}`).toMatch(/^\$\{\w+:\?[^}]*\}$/);
        if (/:\/\/[^/]*@/.test(value))
          expect(value, `${service}: ${name}`).toMatch(/:\/\/[^/@]*\$\{\w+:\?[^}]*\}@/);
      }
    }
  });

  it("puts a password on Postgres, Redis and Grafana", () => {
    expect(services.postgres?.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(services.redis?.command).toContain("--requirepass");
    expect(services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?/,
    );
  });

  it("publishes only nginx on every interface; Prometheus and Grafana on 127.0.0.1 unless configured", () => {
    const published = Object.entries(services).filter(([, s]) => s.ports?.length);
    expect(published.map(([name]) => name).sort()).toEqual(["grafana", "nginx", "prometheus"]);
    expect(services.nginx?.ports).toEqual(["8080:80"]);
    for (const name of ["prometheus", "grafana"])
      for (const port of services[name]?.ports ?? [])
        expect(port, name).toMatch(/^\$\{\w+_BIND:-127\.0\.0\.1\}:/);
  });

  it("gives every internal service the internal token, and the ws proxy a single target", () => {
    for (const name of ["kv", "broker", "ws-proxy"])
      expect(services[name]?.environment?.INTERNAL_TOKEN, name).toMatch(/^\$\{INTERNAL_TOKEN:\?/);
    expect(services["ws-proxy"]?.environment?.TARGET).toBe("postgres:5432");
    expect(services["edge-1"]?.environment?.DB_WS_PROXY).toMatch(/^ws-proxy:5433\/v2\/\$\{INTERNAL_TOKEN:\?/);
    expect(services["edge-1"]?.environment?.CLIENT_IP_HEADER).toBe("X-Real-IP");
  });

  it("scrapes our own /metrics with the metrics token, a Compose secret", () => {
    for (const job of ["edge", "click-shipper", "aggregator"]) {
      const config = prometheus.scrape_configs.find((j) => j.job_name === job);
      expect(config?.authorization?.credentials_file, job).toBe("/run/secrets/metrics_token");
    }
    expect(services.prometheus?.secrets).toEqual(["metrics_token"]);
    expect(compose.secrets?.metrics_token).toEqual({ environment: "METRICS_TOKEN" });
  });
});

describe("wrangler.toml", () => {
  it("carries no secret: those go through wrangler secret put", () => {
    const assigned = [...readFileSync("wrangler.toml", "utf8").matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=/gm)].map(
      (m) => m[1],
    );
    const secrets = [
      "DATABASE_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "ADMIN_TOKEN",
      "VISITOR_SALT",
      "METRICS_TOKEN",
    ];
    for (const name of secrets) expect(assigned).not.toContain(name);
    expect(assigned).toContain("CLIENT_IP_HEADER");
  });
});
