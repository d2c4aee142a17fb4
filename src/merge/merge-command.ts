import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import { constants } from "node:os";

export interface MergeRun {
  /** The command and its arguments. */
  command: string[];
  env: NodeJS.ProcessEnv;
  /** The report, given on stdin. */
  stdin: string;
  /** Where its stdout goes, flushed before this resolves. */
  stdout: string;
  /** Asks the command's process group to stop (SIGTERM): the collector was interrupted. */
  signal?: AbortSignal;
  /** Told the command's pid (its process group's) once it started. */
  onStart?: (pid: number) => Promise<void>;
}

/**
 * Runs the merge command once, in its own process group (so what it starts is
 * stopped with it), its stderr on ours, and resolves with its exit code (128 +
 * the signal's number when a signal ended it).
 */
export async function runMergeCommand({ command, env, stdin, stdout, signal, onStart }: MergeRun): Promise<number> {
  const [input, output] = await Promise.all([open(stdin, "r"), open(stdout, "w")]);
  try {
    const child = spawn(command[0]!, command.slice(1), { stdio: [input.fd, output.fd, "inherit"], env, detached: true });
    const ended = new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (status, sig) => resolve(status ?? 128 + (sig ? constants.signals[sig] : 0)));
    });
    const stop = () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // Already gone.
      }
    };
    signal?.addEventListener("abort", stop, { once: true });
    try {
      if (child.pid !== undefined) await onStart?.(child.pid);
      const code = await ended;
      await output.sync();
      return code;
    } finally {
      signal?.removeEventListener("abort", stop);
    }
  } finally {
    await Promise.all([input.close(), output.close()]);
  }
}
