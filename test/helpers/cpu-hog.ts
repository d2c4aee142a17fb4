import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll } from "vitest";

/**
 * A busy machine for the tests of the calling file or block: `yes > /dev/null`
 * beside them, for as long as they run. The fleet controls once broke only
 * under the load a real machine has.
 */
export function useCpuHog(): void {
  let hog: ChildProcess | undefined;
  beforeAll(() => {
    hog = spawn("sh", ["-c", "exec yes > /dev/null"], { stdio: "ignore" });
  });
  afterAll(() => {
    hog?.kill("SIGKILL");
  });
}
