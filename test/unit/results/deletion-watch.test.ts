import { JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type ConsumerNotification, type JetStreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.js";
import { watchForDeletion, type Deleted } from "../../../src/results/deletion-watch.js";
import { waitFor } from "../../helpers/wait.js";

/** Runs the watch over these notifications with a server that answers consumer info with `answer`; resolves with what it found deleted, if anything, once every notification is handled. */
async function watch(notes: ConsumerNotification[], answer: () => Promise<unknown>): Promise<{ deleted: Deleted | undefined; asked: number }> {
  let exhausted = false;
  let asked = 0;
  let deleted: Deleted | undefined;
  const it = {
    status: async function* () {
      try {
        yield* notes;
      } finally {
        exhausted = true;
      }
    },
  } as unknown as ConsumerMessages;
  const jsm = { consumers: { info: () => (asked++, answer()) } } as unknown as JetStreamManager;
  watchForDeletion(it, jsm, { stream: "S", consumer: "C", log: silentLogger }, (what) => (deleted = what));
  await waitFor("every notification to be handled", () => exhausted || deleted !== undefined);
  return { deleted, asked };
}

const apiError = (code: number) => Promise.reject(new JetStreamApiError({ code: 404, err_code: code, description: "not found" }));
const consumerDeleted: ConsumerNotification = { type: "consumer_deleted", code: 409, description: "Consumer Deleted" };

describe("watchForDeletion", () => {
  it("stops only on the server's own answer that the stream or consumer is gone", async () => {
    expect(await watch([consumerDeleted], () => apiError(JetStreamApiCodes.StreamNotFound))).toEqual({ deleted: "stream", asked: 1 });
    expect(await watch([{ type: "consumer_not_found", name: "C", stream: "S", count: 1 }], () => apiError(JetStreamApiCodes.ConsumerNotFound))).toEqual({ deleted: "consumer", asked: 1 });
  });

  it("goes on through a failover: a 409 while the consumer lives, requests that time out, missed heartbeats", async () => {
    expect(await watch([consumerDeleted, consumerDeleted], () => Promise.resolve({}))).toEqual({ deleted: undefined, asked: 2 });
    expect(await watch([{ type: "stream_not_found", name: "S" }], () => Promise.reject(new Error("TIMEOUT")))).toEqual({ deleted: undefined, asked: 1 });
    expect(await watch([{ type: "heartbeats_missed", count: 2 }, { type: "no_responders", code: 503 }], () => apiError(JetStreamApiCodes.StreamNotFound))).toEqual({ deleted: undefined, asked: 0 });
  });
});
