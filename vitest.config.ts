import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@shared": fileURLToPath(new URL("./shared", import.meta.url)) } },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**", ".wrangler/**"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files start their own workerd; two cores do not gain from more.
    maxWorkers: 2,
    // Worker logs (one line per batch) only for tests that fail.
    silent: "passed-only",
  },
});
