import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, resultsChannel, storeNames, type Task } from "../../../channels/index.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { settles } from "../../policy/latest-outcome.js";

/**
 * Whether a task message is already settled: the last Result or DeadLetter of
 * its id settles this very message, as its msg-id says (one direct get of the
 * last message on its subject in each stream, both at once). A task whose ack
 * was lost is acked again instead of run again; a task published again after
 * its dead letter (a retry) is another message, and runs: the latest outcome
 * wins. Stream sequences, not clocks: in a cluster the streams' leaders may
 * sit on nodes whose clocks differ.
 */
export async function alreadyDone(jsm: JetStreamManager, prefix: string, task: Task, seq: number): Promise<"ok" | "dead" | undefined> {
  const names = storeNames(prefix);
  const checks: Array<[string, string]> = [
    [names.results, resultsChannel.subject(prefix, task.queue, task.job, task.id)],
    [names.dead, deadChannel.subject(prefix, task.queue, task.job, task.id)],
  ];
  const found = await Promise.all(
    checks.map(([stream, subject]) => jsm.direct.getMessage(stream, { last_by_subj: subject }).catch(() => null)),
  );
  const settled = found.map((stored) => stored !== null && settles(stored.header?.get("Nats-Msg-Id"), seq));
  return settled[0] ? "ok" : settled[1] ? "dead" : undefined;
}

/** After a lost connection, every delivery is checked for this long, not only redeliveries. */
export const SUSPECT_WINDOW_MS = 120_000;

/**
 * When a delivery needs the done-check. A redelivery always does. A first
 * delivery does only within SUSPECT_WINDOW_MS of losing the server: a SIGKILL
 * of 2.9.10 loses acks and resets delivery counts to 1, so tasks done just
 * before it come back looking new. Checking every delivery always cost two
 * requests per task, most of a no-op task's time (bench/).
 */
export class DoneCheckPolicy {
  private suspectUntil = 0;

  /** The connection was lost (or regained): deliveries may be stale for a while. */
  suspect(now = Date.now()): void {
    this.suspectUntil = now + SUSPECT_WINDOW_MS;
  }

  needed(attempt: number, now = Date.now()): boolean {
    return attempt > 1 || now < this.suspectUntil;
  }
}

/** The done-check as a delivery asks it: of the task messages the policy names, against the prefix's streams. */
export class DoneCheck {
  private readonly policy = new DoneCheckPolicy();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly prefix: string,
  ) {}

  /** Follows the connection: each loss (or regain) makes deliveries suspect for a while. */
  follow(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) if (s.type === "disconnect" || s.type === "reconnect") this.policy.suspect();
    })().catch(() => {});
  }

  /** Whether a delivery of `attempt` needs the check: most first deliveries do not, and ask the server nothing. */
  needed(attempt: number): boolean {
    return this.policy.needed(attempt);
  }

  /** How the task message of stream sequence `seq` was settled already, if it was. */
  of(task: Task, seq: number): Promise<"ok" | "dead" | undefined> {
    return alreadyDone(this.jsm, this.prefix, task, seq);
  }
}
