import { existsSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsOfJob } from "../../src/control/job-events.js";
import { LocalNatsServer } from "../../src/nats/local-server.js";
import { FIXTURES, lastJson, ROOT, runCli, startCli, type CliProcess } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { elapse, steady, waitFor } from "../helpers/wait.js";
import { terminal, type Terminal } from "../e2e/harness.js";

// Debian's Chromium (`.ci/run` installs it); without it these tests say so and skip.
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const server = useTestServer();
const XSS = `<img src=x onerror="window.pwned=1"> </script><script>window.pwned=2</script>`;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** A port free now, for a dashboard of its own. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** `fanout dashboard` on a free port: its url and token. */
async function dashboard(t: Terminal, env: Record<string, string> = {}): Promise<{ url: string; token: string }> {
  return listening(t.start(["dashboard", "--port", String(await freePort())], env));
}

/** The url and token a dashboard prints once it listens. */
function listening(proc: CliProcess): Promise<{ url: string; token: string }> {
  return waitFor("the dashboard to listen", () => (proc.stdout().includes("\n") ? (JSON.parse(proc.stdout().split("\n")[0]!) as { url: string; token: string }) : undefined), 15_000);
}

/**
 * The page, with a record of every dialog it opened (an alert from injected
 * script would show here); `confirming.yes` says how a confirm is answered.
 */
async function open(url: string): Promise<{ page: Page; dialogs: string[]; errors: string[]; confirming: { yes: boolean } }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // A script error, or a script the CSP refused, is recorded for the test to check.
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const dialogs: string[] = [];
  const confirming = { yes: false };
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void (confirming.yes && d.type() === "confirm" ? d.accept() : d.dismiss());
  });
  await page.goto(url);
  return { page, dialogs, errors, confirming };
}

describe.skipIf(!hasChromium)("the dashboard, in Chromium", () => {
  it("shows the queue, a job's counts moving to complete, the worker, and a dead letter whose hostile error stays text", async () => {
    const t = await terminal(server);
    const tasks = [...Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, input: { sleepMs: 150 } })), { id: "evil", input: { say: XSS } }];
    const { job } = await t.publish(await t.jsonl("t.jsonl", tasks), "--queue", "agents");
    const { url } = await dashboard(t);
    const { page, dialogs, errors } = await open(url);
    await page.waitForSelector('#queues tr[data-queue="agents"]');
    await page.waitForSelector("#chart canvas"); // uPlot drew the chart
    expect(await page.textContent("#link")).toBe("live");
    const worker = t.start(["worker", "subscribe", "--queue", "agents", "--name", "w-browser", "-c", "2", "--idle-exit", "10", "--", process.execPath, path.join(FIXTURES, "hostile.mjs")]);
    await page.waitForSelector("#workers td:text('w-browser')");
    await page.waitForFunction((j) => document.querySelector(`[data-job="${j}"] .counts`)?.textContent === "12 ok, 1 dead, 0 left of 13", job, { timeout: 30_000 });
    // The error is shown as the very text the task printed: no element made of it, no script run.
    const errorCell = page.locator("#dead td.error").first();
    await expect.poll(() => errorCell.textContent()).toContain(XSS);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("img[src=x]").count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.click("#dead tr.clickable");
    await page.waitForSelector("#task[open] dd pre");
    expect(await page.textContent("#task-facts")).toContain(XSS);
    // GET /api/state is `fanout status --json` (the job is done: nothing moves between the two reads).
    const read = async () => JSON.stringify(await (await fetch(`${url}api/state`)).json());
    const state = JSON.parse(await steady("the dashboard's state", read, 1500)) as object;
    expect(state).toEqual(lastJson(await t.run(["status", "--json"])));
    expect(errors).toEqual([]);
    // On a phone's width nothing spills sideways: wide tables scroll in their own box.
    await page.keyboard.press("Escape");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth, undefined, { timeout: 5000 });
    // A worker that goes silent is shown as lost.
    worker.child.kill("SIGKILL");
    await page.waitForSelector("#workers tr.lost td:text('w-browser')", { timeout: 15_000 });
    await page.close();
  }, 90_000);

  it("pause, resume, cancel and retry from the page take effect; without the token, or from another site, they are refused", async () => {
    const t = await terminal(server);
    const a = await t.publish(await t.jsonl("a.jsonl", [{ id: "bad", input: { say: "blocked" } }]), "--queue", "q1");
    const { url, token } = await dashboard(t);
    const { page, confirming } = await open(url);
    await page.waitForSelector('#queues tr[data-queue="q1"]');
    const paused = async () => (await t.status()).queues.find((q) => q.queue === "q1")!.paused;

    // No token: the page says what to do, and the server refuses a request that has none.
    await page.click('#queues tr[data-queue="q1"] button');
    await expect.poll(() => page.textContent("#notice")).toContain("paste the token");
    expect(await paused()).toBe(false);
    const bare = await page.evaluate(async (u) => (await fetch(`${u}api/queues/q1/pause`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, url);
    expect(bare).toBe(403);
    const crossSite = await fetch(`${url}api/queues/q1/pause`, { method: "POST", headers: { "content-type": "application/json", "x-fanout-token": token, origin: "http://evil.example" }, body: "{}" });
    expect(crossSite.status).toBe(403);
    const formPost = await fetch(`${url}api/queues/q1/pause`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-fanout-token": token }, body: "a=1" });
    expect(formPost.status).toBe(403);
    // A JSON body that does not parse, or a queue the server does not know, is the asker's mistake: 400, saying which.
    const garbled = await fetch(`${url}api/queues/q1/pause`, { method: "POST", headers: { "content-type": "application/json", "x-fanout-token": token }, body: "{not json" });
    expect(garbled.status).toBe(400);
    expect(((await garbled.json()) as { error: string }).error).toMatch(/JSON/);
    const typo = await fetch(`${url}api/queues/q7/pause`, { method: "POST", headers: { "content-type": "application/json", "x-fanout-token": token }, body: "{}" });
    expect([typo.status, ((await typo.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/^no queue q7 /)]);
    // A site whose name was pointed at 127.0.0.1 (DNS rebinding) gets nothing, not even a read.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}api/state`, { headers: { host: `evil.example:${new URL(url).port}` } }, (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(rebound).toBe(403);
    expect(await paused()).toBe(false);

    await page.fill("#token", token);
    await page.click("#token-form button");
    await page.click('#queues tr[data-queue="q1"] button:text("pause")');
    await waitFor("the queue to be paused", paused);
    await page.click('#queues tr[data-queue="q1"] button:text("resume")');
    await waitFor("the queue to run again", async () => !(await paused()));

    // The job's task is dead (rejected); retry it from the page: it runs again.
    const worker = t.start(["worker", "subscribe", "--queue", "q1", "--", process.execPath, path.join(FIXTURES, "hostile.mjs")]);
    await page.waitForFunction((j) => document.querySelector(`[data-job="${j}"] .counts`)?.textContent === "0 ok, 1 dead, 0 left of 1", a.job, { timeout: 20_000 });
    // The reason chosen stays chosen across the page's redraws (one a second).
    const card = `[data-job="${a.job}"]`;
    await page.selectOption(`${card} select`, "timeout");
    await elapse(2500); // two redraws or more
    await page.click(`${card} button:text("retry dead")`);
    await expect.poll(() => page.textContent("#notice")).toContain('"retried":0');
    await page.selectOption(`${card} select`, "rejected");
    await elapse(1500); // a redraw or more
    await page.click(`${card} button:text("retry dead")`);
    await expect.poll(() => page.textContent("#notice")).toContain('"retried":1');
    const events = async () => (await eventsOfJob(await t.connection(), a.job)).map((e) => e.type);
    await waitFor("the retried task to be dead again", async () => (await events()).filter((e) => e === "dead").length === 2);

    // A job with tasks waiting (its queue paused), cancelled from the page: its report finalizes, every id cancelled.
    await t.run(["queue", "pause", "q1"]);
    const b = await t.publish(await t.jsonl("b.jsonl", [{ id: "w1", input: {} }, { id: "w2", input: {} }]), "--queue", "q1");
    confirming.yes = true;
    await page.click(`[data-job="${b.job}"] button:text("cancel")`);
    const out = path.join(t.dir, "b.jsonl.out");
    expect(lastJson(await t.run(["results", "collect", "--job", b.job, "--out", out]))).toMatchObject({ total: 2, dead: 2, deadByReason: { cancelled: 2 } });
    worker.child.kill("SIGTERM");
    await worker.done;
    await page.close();
  }, 90_000);

  it("shows an empty state on a fresh server, and works on a phone's width", async () => {
    const t = await terminal(server);
    const { url } = await dashboard(t);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(url);
    await page.waitForSelector("#empty:not([hidden])");
    expect(await page.textContent("#empty")).toBe("no queues yet: publish with fanout leader publish");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });
});

// `UPDATE_SCREENSHOT=1 npx vitest run test/browser` retakes the README's picture during a real run.
describe.skipIf(!hasChromium || !process.env.UPDATE_SCREENSHOT)("the README's screenshot", () => {
  it("is taken during a real run: two queues, a budget and a rate, workers, a dead letter", async () => {
    const t = await terminal(server);
    const docs = Array.from({ length: 400 }, (_, i) => ({ id: `doc-${String(i).padStart(3, "0")}`, input: i % 97 === 5 ? { say: "parse error: unexpected token '<' at line 3" } : { sleepMs: 200 + (i % 7) * 60 } }));
    const agents = await t.publish(await t.jsonl("docs.jsonl", docs), "--queue", "agents");
    await t.publish(await t.jsonl("labels.jsonl", Array.from({ length: 300 }, (_, i) => ({ id: `img-${i}`, input: { sleepMs: 120 } }))), "--queue", "labels");
    await t.run(["queue", "set", "agents", "--rate", "25/s"]);
    const { url } = await dashboard(t);
    const workers = [
      t.start(["worker", "subscribe", "--queue", "agents", "--name", "gpu-box-1", "-c", "4", "--", process.execPath, path.join(FIXTURES, "hostile.mjs")]),
      t.start(["worker", "subscribe", "--queue", "agents", "--name", "gpu-box-2", "-c", "4", "--", process.execPath, path.join(FIXTURES, "hostile.mjs")]),
      t.start(["worker", "subscribe", "--queue", "labels", "--name", "cpu-box-1", "-c", "3", "--", process.execPath, path.join(FIXTURES, "hostile.mjs")]),
    ];
    const { page } = await open(url);
    const ok = async () => Number(/^(\d+) ok/.exec((await page.textContent(`[data-job="${agents.job}"] .counts`)) ?? "")?.[1] ?? 0);
    await waitFor("the agents job to be well under way, with a dead letter", async () => (await ok()) > 60 && (await page.locator("#dead tr.clickable").count()) > 0, 60_000);
    await elapse(20_000); // the chart fills in, for the screenshot
    await page.screenshot({ path: path.join(t.dir, "dashboard.png") });
    await copyFile(path.join(t.dir, "dashboard.png"), path.join(ROOT, "docs", "dashboard.png"));
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
    await page.close();
  }, 120_000);
});

describe.skipIf(!hasChromium)("the dashboard as nats.conf's read-only tap user", () => {
  const passwords = { FANOUT_LEADER_PASSWORD: "leader-pw", FANOUT_WORKER_PASSWORD: "worker-pw", FANOUT_TAP_PASSWORD: "tap-pw" };
  let nats: LocalNatsServer;
  beforeAll(async () => {
    nats = await LocalNatsServer.start({ config: path.join(ROOT, "nats.conf"), env: passwords });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("shows the fleet with its controls off, and the server refuses what the page would do", async () => {
    const leader = { ...passwords, NATS_URL: nats.url, FANOUT_PREFIX: "fanout" };
    await runCli(["leader", "publish", "--queue", "watched", "--input", '{"id":"x","input":1}'], leader);
    const tapOnly = { NATS_URL: nats.url, FANOUT_PREFIX: "fanout", FANOUT_TAP_PASSWORD: passwords.FANOUT_TAP_PASSWORD };
    const { url, token } = await listening(startCli(["dashboard", "--port", String(await freePort())], tapOnly));
    const { page } = await open(url);
    await page.waitForSelector('#queues tr[data-queue="watched"]');
    expect(await page.isVisible("#readonly")).toBe(true);
    expect(await page.isDisabled('#queues tr[data-queue="watched"] button')).toBe(true);
    const refused = await fetch(`${url}api/queues/watched/pause`, { method: "POST", headers: { "content-type": "application/json", "x-fanout-token": token }, body: "{}" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain("read-only");
    await page.close();
  });
});

describe("fanout dashboard, refusals", () => {
  it("refuses to listen beyond loopback without a token from the environment, in one line, exit 2", async () => {
    const t = await terminal(server);
    const run = await t.run(["dashboard", "--host", "0.0.0.0"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("FANOUT_DASHBOARD_TOKEN");
    // Not on the command line, where `ps` and the shell's history would show it.
    const onCli = await t.run(["dashboard", "--host", "0.0.0.0", "--token", "0123456789abcdef0123"]);
    expect([onCli.code, onCli.stderr.trim().split("\n").length]).toEqual([2, 1]);
  });
});
