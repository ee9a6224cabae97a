/**
 * What the runner starts, named as the services of docker-compose.test.yml, so a test
 * can hold the two topologies together. ("redis-rest" is the project's gateway here,
 * the SRH image there: both speak the Upstash REST protocol.)
 */
export const TOPOLOGY = [
  "postgres",
  "ws-proxy",
  "redis",
  "redis-rest",
  "kv",
  "aggregator",
  "broker",
  "edge-1",
  "edge-2",
  "edge-3",
  "nginx",
] as const;
