import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most tests wait on servers and child processes, not the CPU: three files at
    // once on this 2-core machine halve the suite, and it passes so beside a CPU hog.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // In CI, also a JSON summary for .ci/run's closing line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: ".ci/test-results.json" },
  },
});
