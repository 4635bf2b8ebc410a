import path from "node:path";
import { defineConfig } from "vitest/config";

/** `npm run test:n8n`: the shipped workflow in a real n8n. Slow (n8n starts in tens of seconds), so not in `npm test`. */
export default defineConfig({
  resolve: { alias: { "~": path.resolve(__dirname, "app") } },
  test: {
    include: ["tests/n8n/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    // Limits for hangs, not for speed: on a busy machine n8n's start-up alone can take minutes.
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
