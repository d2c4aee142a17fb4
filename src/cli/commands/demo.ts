import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { EnvironmentError } from "../../errors.js";
import { dirSpecs } from "../../leader/dir-source.js";
import { publishTasks } from "../../leader/publish.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { LocalNatsServer } from "../../nats/local-server.js";
import { packageRoot } from "../../package-root.js";
import { collect } from "../../results/collect.js";
import { examples, intOption, printJson } from "../options.js";

export function demoCommand(): Command {
  const cmd = new Command("demo")
    .description("run the whole flow on examples/: a private server, publish, N workers, collect, summary")
    .addOption(intOption("-w, --workers <n>", "worker processes", 1, 32, 4))
    .action(async (flags: { workers: number }) => {
      const root = packageRoot();
      const log = createLogger({ demo: true });
      const server = await LocalNatsServer.start();
      const workers: ChildProcess[] = [];
      try {
        log.info({ server: server.url }, "started a private nats-server");
        const conn = await connect({ server: server.url, longLived: true });
        const { specs, source } = await dirSpecs(path.join(root, "examples", "corpus"));
        const published = await publishTasks(conn, specs, { queue: "demo", source });
        log.info(published, "published one task per document of examples/corpus");
        for (let i = 1; i <= flags.workers; i++) {
          const args = [path.join(root, "bin", "fanout"), "worker", "subscribe", "--server", server.url, "--queue", "demo"];
          args.push("--name", `worker-${i}`, "--concurrency", "2", "--", process.execPath, path.join(root, "examples", "agent.mjs"));
          workers.push(spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] }));
        }
        const dir = path.resolve(".fanout", "demo");
        await mkdir(dir, { recursive: true });
        const out = path.join(dir, `report-${published.job}.jsonl`);
        // If every worker dies (say, node cannot start the agent), stop waiting.
        const failed = new AbortController();
        let running = workers.length;
        for (const w of workers) w.once("exit", () => --running === 0 && failed.abort());
        const summary = await collect(conn, { job: published.job, out, log, signal: failed.signal });
        if (!summary.finalized) throw new EnvironmentError("every demo worker exited before the job was done; see the log above");
        await conn.close();
        await Promise.all(workers.map(stopChild));
        process.stderr.write(`\nfanout demo: ${summary.ok} ok, ${summary.dead} dead of ${summary.total} tasks; report: ${out}\n`);
        printJson({ ...summary, workers: flags.workers });
      } finally {
        await Promise.all(workers.map(stopChild));
        await server.stop();
      }
    });
  return examples(cmd, "fanout demo", "fanout demo --workers 8");
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  return exited;
}
