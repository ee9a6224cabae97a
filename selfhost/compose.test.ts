import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPOSE_REPLICAS, composeNginxConfig } from "../scripts/compose-nginx";
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
};
const compose = parse(readFileSync("docker-compose.test.yml", "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const prometheus = parse(readFileSync("selfhost/prometheus/prometheus.yml", "utf8")) as {
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
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
    const extra = ["PORT", "KV_ADDRESS", "QUEUE_ADDRESS", "REPLICA_NAME", "SHIPPER_METRICS_PORT"];
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
});
