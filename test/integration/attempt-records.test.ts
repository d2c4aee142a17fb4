import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { storeNames } from "../../channels/index.js";
import { publishTasks } from "../../src/leader/publish.js";
import { AttemptRecords } from "../../src/store/attempt-records.js";
import { attemptOf } from "../../src/worker/settle/attempts.js";
import { handBack } from "../../src/worker/settle/hand-back.js";
import { silentLogger } from "../../src/log.js";
import { useTestServer } from "../helpers/server.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

describe("hand-backs", () => {
  it("cost no attempt: a task handed back twice is on attempt 1 at its third delivery; a plain nak counts", async () => {
    const conn = await freshConnection(server);
    await publishTasks(conn, [{ id: "a", input: 1 }], { queue: "q" });
    const records = await AttemptRecords.open(conn);
    const consumer = await jetstream(conn.nc).consumers.get(storeNames(conn.prefix).tasks, "worker-q");
    const deliver = async () => (await consumer.next({ expires: 5000 }))!;
    for (let i = 1; i <= 2; i++) {
      const msg = await deliver();
      expect(await attemptOf(msg, records)).toEqual({ attempt: 1, record: { returned: i - 1 } });
      await handBack({ records, log: silentLogger }, msg);
    }
    const third = await deliver();
    expect(third.info.deliveryCount).toBe(3);
    expect(await attemptOf(third, records)).toEqual({ attempt: 1, record: { returned: 2 } });
    third.nak();
    expect((await attemptOf(await deliver(), records)).attempt).toBe(2);
    await conn.close();
  });
});
