import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { queueConsumerName, storeNames } from "../../channels/index.js";
import { publishTasks } from "../../src/leader/publish.js";
import { LevelReturns } from "../../src/worker/claim/level-returns.js";
import { silentLogger } from "../../src/log.js";
import { connect } from "../../src/nats/connect.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

describe("a leveled queue's returns", () => {
  it("are heard by a worker that starts after they were sent, and are gone once one is claimed again", async () => {
    const first = await freshConnection(server);
    const later = await connect({ server: server.url, user: server.user, password: server.password, prefix: first.prefix, longLived: true });
    await publishTasks(first, [{ id: "a", input: 1, priority: "high" }], { queue: "q" });
    const consumer = await jetstream(first.nc).consumers.get(storeNames(first.prefix).tasks, queueConsumerName("q", "high"));
    const sender = LevelReturns.start(first.nc, first.prefix, "q", silentLogger);
    const msg = (await consumer.next({ expires: 5000 }))!;
    sender.sent(msg, 300);
    msg.nak(300);

    // Started after the return was said: it asks, and the sender says it again.
    const joiner = LevelReturns.start(later.nc, later.prefix, "q", silentLogger);
    await waitFor("the return heard and due", () => joiner.take("high", 5, 0) === 1, 5000);
    expect(joiner.take("normal", 5, 50)).toBe(0);
    expect(joiner.take("high", 5, 1000)).toBe(1);
    expect(joiner.take("high", 5, 1000)).toBe(0); // pulled for already

    const again = (await consumer.next({ expires: 5000 }))!;
    expect(again.info.deliveryCount).toBe(2);
    joiner.claimed(again);
    await waitFor("the claim heard", () => sender.take("high", 5, 0) === 0, 5000);
    again.ack();
    for (const r of [sender, joiner]) r.stop();
    await Promise.all([first.close(), later.close()]);
  });
});
