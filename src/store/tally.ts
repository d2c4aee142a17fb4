import { headers, type NatsConnection } from "@nats-io/transport-node";
import { countWeights, countsChannel, type CountKind } from "../../channels/index.js";
import { TurnBatches } from "../nats/turn-batches.js";

/**
 * Adds to the jobs' tallies on the server (the counts stream): what one turn
 * settled, per job and kind, as empty core publishes whose subjects' weights
 * (powers of two) sum to it. Not awaited: a lost one makes `status` lag, never
 * a report, which reads the outcomes themselves.
 */
export class Tally {
  private readonly batches: TurnBatches<string>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {
    this.batches = new TurnBatches((key, msgIDs) => this.send(key, msgIDs));
  }

  /** Counts one outcome, of msg-id `msgID`, at the end of this turn. */
  count(at: { queue: string; job: string }, kind: CountKind, msgID: string): void {
    this.batches.add(`${at.queue}\0${at.job}\0${kind}`, msgID);
  }

  /**
   * Counts an outcome found stored already (its ack lost) on its own, with its
   * msg-id: a count lost with the first ack is made whole, and a repeat of
   * one sent alone (as a quiet worker sends each) is dropped by the server.
   */
  countAgain(at: { queue: string; job: string }, kind: CountKind, msgID: string): void {
    this.publish(countsChannel.subject(this.prefix, at.queue, at.job, kind), msgID);
  }

  /** Sends what is gathered now. */
  flush(): void {
    this.batches.flush();
  }

  private send(key: string, msgIDs: string[]): void {
    const [queue, job, kind] = key.split("\0") as [string, string, CountKind];
    if (msgIDs.length === 1) return this.publish(countsChannel.subject(this.prefix, queue, job, kind), msgIDs[0]);
    for (const weight of countWeights(msgIDs.length)) this.publish(countsChannel.subject(this.prefix, queue, job, kind, weight));
  }

  private publish(subject: string, msgID?: string): void {
    const h = headers();
    if (msgID) h.set("Nats-Msg-Id", msgID);
    try {
      this.nc.publish(subject, undefined, msgID ? { headers: h } : undefined);
    } catch {
      // Disconnected: the tally lags; the outcomes themselves are stored.
    }
  }
}
