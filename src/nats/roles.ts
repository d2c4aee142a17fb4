/**
 * The three users of nats.conf. Each command connects as the least of them
 * that can do its work; the role's password comes from FANOUT_<ROLE>_PASSWORD.
 */
export type Role = "leader" | "worker" | "tap";

/** The environment variable holding a role's password (also read by nats.conf). */
export function passwordVariable(role: Role): string {
  return `FANOUT_${role.toUpperCase()}_PASSWORD`;
}

/** User and password for a role, when its password is in the environment. */
export function roleCredentials(role: Role): { user: string; pass: string } | undefined {
  const pass = process.env[passwordVariable(role)];
  return pass ? { user: role, pass } : undefined;
}

/** Each role gets its own inbox prefix, so nats.conf can let it subscribe to its replies only. */
export function inboxPrefix(role: Role): string {
  return `_INBOX_${role}`;
}

export function isRole(user: string | undefined): user is Role {
  return user === "leader" || user === "worker" || user === "tap";
}
