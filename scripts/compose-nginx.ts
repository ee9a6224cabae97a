/**
 * Writes selfhost/nginx/compose.conf, the load balancer config of docker-compose.test.yml,
 * from the same generator the Docker-free runner uses, so the two cannot drift apart.
 * A test checks the committed file is what this prints.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { nginxConfig } from "../selfhost/nginx-config";

export const COMPOSE_REPLICAS = ["edge-1:8081", "edge-2:8082", "edge-3:8083"];

export const composeNginxConfig = (): string =>
  nginxConfig({
    listen: "0.0.0.0:80",
    replicas: COMPOSE_REPLICAS.map((address) => ({ address })),
    prefix: "/tmp",
    statusPort: 8089,
    user: "nginx",
  });

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(
    fileURLToPath(new URL("../selfhost/nginx/compose.conf", import.meta.url)),
    composeNginxConfig(),
  );
}
