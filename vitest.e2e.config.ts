import path from "node:path";
import { defineConfig } from "vitest/config";

/** End-to-end journeys: a real `next start`, the real engine, Debian's chromium. One at a time. */
export default defineConfig({
  resolve: { alias: { "@": path.resolve(__dirname) } },
  test: {
    include: ["tests/e2e/**/*.test.ts"],
    environment: "node",
    testTimeout: 300_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: "forks",
  },
});
