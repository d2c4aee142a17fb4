import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // In CI, also a JSON summary for .ci/run's closing line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: ".ci/test-results.json" },
  },
});
