import { spawn } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { EnvironmentError } from "../../errors.js";
import { findNatsServer, INSTALL_HINT, portInUse } from "../../nats/local-server.js";
import { rolePasswords } from "../../nats/passwords.js";
import { packageRoot } from "../../package-root.js";
import { examples, intOption } from "../options.js";

export function serverCommand(): Command {
  const cmd = new Command("server")
    .description("run nats-server for local use with fanout's nats.conf (JetStream on, loopback only, store in ./.fanout/)")
    .addOption(intOption("-p, --port <port>", "port to listen on", 1, 65535, 4222))
    .action(async (flags: { port: number }) => {
      const bin = findNatsServer();
      if (!bin) throw new EnvironmentError(`nats-server is not installed: ${INSTALL_HINT}`);
      if (await portInUse(flags.port)) {
        throw new EnvironmentError(
          `port ${flags.port} on 127.0.0.1 is taken: a NATS server may already be running there ` +
            `(check with \`fanout status --server nats://127.0.0.1:${flags.port}\`), or pick another with --port`,
        );
      }
      const config = path.join(packageRoot(), "nats.conf");
      const passwordsFile = path.resolve(".fanout", "passwords.env");
      const { env, generated } = await rolePasswords(passwordsFile);
      if (generated.length) process.stderr.write(`fanout: generated passwords for ${generated.join(", ")} in ${passwordsFile}\n`);
      process.stderr.write(
        `fanout: starting nats-server on nats://127.0.0.1:${flags.port} (store: ./.fanout/jetstream); Ctrl-C stops it\n` +
          `fanout: in the shells that run fanout: source ${path.relative(process.cwd(), passwordsFile)}\n`,
      );
      const child = spawn(bin, ["-c", config, "-p", String(flags.port)], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 0)));
      if (code !== 0) process.exitCode = 1;
    });
  return examples(cmd, "fanout server", "fanout server --port 4333");
}
