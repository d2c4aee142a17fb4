import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { passwordVariable, type Role } from "./roles.js";

const ROLES: Role[] = ["leader", "worker", "tap"];

/**
 * The passwords nats.conf reads from the environment. Those not set are taken
 * from `file` (a shell-sourceable env file), or generated and written there
 * with mode 600, so the next start and the user's other shells agree.
 */
export async function rolePasswords(file: string): Promise<{ env: Record<string, string>; generated: Role[] }> {
  const saved = await readFile(file, "utf8").then(parseEnvFile, () => ({}) as Record<string, string>);
  const env: Record<string, string> = {};
  const generated: Role[] = [];
  for (const role of ROLES) {
    const name = passwordVariable(role);
    const value = process.env[name] ?? saved[name];
    if (value) env[name] = value;
    else {
      env[name] = randomBytes(18).toString("base64url");
      generated.push(role);
    }
  }
  if (generated.length) {
    await mkdir(path.dirname(file), { recursive: true });
    const text = Object.entries(env).map(([k, v]) => `export ${k}=${v}`).join("\n") + "\n";
    await writeFile(file, text, { mode: 0o600 });
  }
  return { env, generated };
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
