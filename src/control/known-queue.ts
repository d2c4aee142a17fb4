import type { JetStreamManager } from "@nats-io/jetstream";
import { queueProblem } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { readQueueConsumer } from "../nats/queue-consumer.js";
import { isNotFound } from "../nats/topology.js";

/**
 * Refuses a queue name no task was ever published to and no worker ever
 * served: a typo must not look like a control that holds (`queue pause lllm`,
 * `queue forget-done lllm`, answered as if done).
 */
export async function knownQueue(jsm: JetStreamManager, prefix: string, queue: string): Promise<void> {
  const problem = queueProblem(queue);
  if (problem) throw new UsageError(`queue ${problem}`);
  await readQueueConsumer(jsm, prefix, queue).catch((err: unknown) => {
    if (isNotFound(err)) throw new UsageError(`no queue ${queue} (no task was ever published to it): check the name with \`fanout status\``);
    throw err;
  });
}
