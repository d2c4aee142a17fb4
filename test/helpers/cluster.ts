import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort, LocalNatsServer } from "../../src/nats/local-server.js";
import { waitFor } from "./wait.js";

/** A JetStream cluster of `size` nats-servers on loopback, each with its own temp store. */
export class TestCluster {
  private constructor(readonly nodes: Array<{ name: string; server: LocalNatsServer }>) {}

  /** Every node's client URL, comma-separated, as `--server` takes them. */
  get url(): string {
    return this.nodes.map((n) => n.server.url).join(",");
  }

  static async start(size = 3): Promise<TestCluster> {
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`).join(",");
    const nodes = await Promise.all(
      clusterPorts.map(async (port, i) => {
        const name = `n${i + 1}`;
        const args = ["--server_name", name, "--cluster_name", "fanout-test", "--cluster", `nats://127.0.0.1:${port}`, "--routes", routes];
        return { name, server: await LocalNatsServer.start({ args }) };
      }),
    );
    const cluster = new TestCluster(nodes);
    await cluster.waitForJetStream();
    return cluster;
  }

  /** Until the nodes have elected a JetStream meta leader and answer account requests. */
  async waitForJetStream(): Promise<void> {
    const nc = await connect({ servers: this.nodes.map((n) => n.server.url) });
    try {
      await waitFor("the cluster's JetStream to be ready", async () => {
        await (await jetstreamManager(nc)).getAccountInfo();
        return true;
      }, 60_000, 500);
    } finally {
      await nc.close();
    }
  }

  node(name: string): LocalNatsServer {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node.server;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.server.stop()));
  }
}
