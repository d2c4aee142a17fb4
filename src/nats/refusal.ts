import { PermissionViolationError } from "@nats-io/transport-node";

/** The server's permission refusal inside `err` (or its causes), if that is what it is. */
export function permissionRefusal(err: unknown): PermissionViolationError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof PermissionViolationError) return e;
  }
  return undefined;
}
