import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The fast unit lane (`npm run test:unit`): pure tests beside the code, no global setup (no apt, no bundling,
 * no Postgres or Redis), seconds. Tests beside the code that start servers are named `*.integration.test.ts`;
 * `npm test` runs everything.
 */
export default defineConfig({
  resolve: { alias: { "@shared": fileURLToPath(new URL("./shared", import.meta.url)) } },
  test: {
    include: ["shared/**/*.test.ts", "worker/src/**/*.test.ts", "aggregator/src/**/*.test.ts"],
    exclude: ["**/*.integration.test.ts", "node_modules/**"],
  },
});
