// The fanout dashboard: one live snapshot a second, drawn as text.
import { act, follow, setToken, task, token } from "./api.js";
import { drawChart } from "./chart.js";
import { duration, el, rows, usageText } from "./dom.js";

const $ = (id) => document.getElementById(id);
const DEAD_REASONS = ["failed", "timeout", "rejected", "invalid", "cancelled", "invalid-output"];
const MAX_JOBS = 12;
/** The dead letters' reason chosen on each job's card: kept across redraws. */
const chosenReason = new Map();
let readOnly = false;
/** Whether the notice shows the server's error (cleared once it answers again). */
let noticeIsError = false;

$("token").value = token();
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken($("token").value.trim());
  notice("token saved for this tab");
});

function notice(text, isError = false) {
  noticeIsError = isError;
  $("notice").hidden = !text;
  $("notice").textContent = text ?? "";
}

/** Runs a control, saying what came of it. */
async function control(what, path, body) {
  if (!token()) return notice(`${what}: paste the token printed by \`fanout dashboard\` first`);
  try {
    const answer = await act(path, body);
    notice(`${what}: done ${JSON.stringify(answer)}`);
  } catch (err) {
    notice(`${what}: ${err.message}`);
  }
}

function button(label, onclick) {
  return el("button", { type: "button", onclick, ...(readOnly ? { disabled: "" } : {}) }, label);
}

function queueRow(q) {
  const unfit = q.unfit ? `${q.unfit.tasks} task${q.unfit.tasks === 1 ? "" : "s"} no live worker can fit` : "";
  const state = [q.paused ? `paused: ${q.pausedReason ?? ""}` : "running", q.heldUntil ? `held until ${q.heldUntil.slice(11, 19)}: ${q.holdReason ?? ""}` : "", unfit].filter(Boolean).join("; ");
  const limits = [
    q.rate ? `rate ${q.rate}` : "",
    q.budgetUsd !== undefined ? `budget $${(q.usage?.costUsd ?? 0).toFixed(4)} of $${q.budgetUsd}` : "",
    q.budgetTokens !== undefined ? `budget ${(q.usage?.tokens ?? 0).toLocaleString("en-US")} of ${q.budgetTokens.toLocaleString("en-US")} tokens` : "",
    !q.budgetUsd && !q.budgetTokens ? usageText(q.usage) : "",
  ].filter(Boolean).join("; ");
  const toggle = q.paused
    ? button("resume", () => control(`resume ${q.queue}`, `/api/queues/${encodeURIComponent(q.queue)}/resume`))
    : button("pause", () => control(`pause ${q.queue}`, `/api/queues/${encodeURIComponent(q.queue)}/pause`, { reason: "paused from the dashboard" }));
  return el("tr", { "data-queue": q.queue }, el("td", {}, q.queue), el("td", { class: "num" }, q.waiting), el("td", { class: "num" }, q.inFlight), el("td", { class: "num" }, q.dead), el("td", { class: "state" }, state), el("td", {}, limits), el("td", {}, toggle));
}

function jobCard(j) {
  const left = Math.max(0, j.total - j.ok - j.dead);
  const pct = (n) => `${j.total ? (100 * n) / j.total : 0}%`;
  const reason = el(
    "select",
    { "aria-label": "which dead letters", onchange: (e) => chosenReason.set(j.job, e.target.value) },
    el("option", { value: "" }, "all dead"),
    ...DEAD_REASONS.map((r) => el("option", { value: r }, r)),
  );
  reason.value = chosenReason.get(j.job) ?? "";
  const path = (a) => `/api/jobs/${encodeURIComponent(j.job)}/${a}`;
  return el(
    "div",
    { class: "job", "data-job": j.job },
    el("div", { class: "line" }, el("span", { class: "id" }, j.job), el("span", { class: "muted" }, j.queue), j.cancelled ? el("span", { class: "badge warn" }, "cancelled") : null),
    el("div", { class: "bar", title: `${j.ok} ok, ${j.dead} dead, ${left} left of ${j.total}` }, el("div", { class: "ok", style: { width: pct(j.ok) } }), el("div", { class: "dead", style: { width: pct(j.dead) } })),
    el(
      "div",
      { class: "line" },
      el("span", { class: "counts" }, `${j.ok} ok, ${j.dead} dead, ${left} left of ${j.total}`),
      el("span", {}, `${j.rate ?? 0}/s, ETA ${left === 0 ? "done" : duration(j.etaS)}`),
      j.usage ? el("span", {}, usageText(j.usage)) : null,
      left > 0 && !j.cancelled ? button("cancel", () => confirm(`cancel job ${j.job}?`) && control(`cancel ${j.job}`, path("cancel"))) : null,
      j.dead > 0 ? el("span", {}, reason, " ", button("retry dead", () => control(`retry ${j.job}`, path("retry"), reason.value ? { reason: reason.value } : {}))) : null,
    ),
  );
}

function workerRow(w) {
  return el("tr", { class: w.lost ? "lost" : "" }, el("td", {}, w.worker), el("td", {}, w.host ?? "-"), el("td", {}, w.queue), el("td", { class: "num" }, `${w.running}/${w.concurrency}`), el("td", { class: "num" }, w.done), el("td", {}, w.lost ? `lost (${w.silentS}s ago)` : `${w.silentS}s ago`));
}

function deadRow(d) {
  return el("tr", { class: "clickable", tabindex: "0", onclick: () => showTask(d.job, d.id) }, el("td", {}, d.id), el("td", {}, d.job), el("td", {}, d.reason), el("td", { class: "num" }, d.attempts), el("td", {}, d.worker), el("td", { class: "error" }, d.error));
}

async function showTask(job, id) {
  const facts = $("task-facts");
  $("task-title").textContent = `${id} of ${job}`;
  facts.replaceChildren(el("dt", {}, "loading"), el("dd", {}, "…"));
  $("task").showModal();
  try {
    const t = await task(job, id);
    const line = t.result ?? t.dead;
    const pre = (v) => el("pre", {}, typeof v === "string" ? v : JSON.stringify(v, null, 2));
    facts.replaceChildren(
      el("dt", {}, "status"), el("dd", {}, line?.reason ? `${t.status} (${line.reason})` : t.status),
      el("dt", {}, "attempts"), el("dd", {}, line?.attempts ?? "-"),
      el("dt", {}, "input"), el("dd", {}, t.input === undefined ? `not kept after success (SHA-256 ${line?.provenance?.inputSha256 ?? "unknown"})` : pre(t.input)),
      ...(t.result ? [el("dt", {}, "output"), el("dd", {}, pre(t.result.output))] : []),
      ...(t.dead ? [el("dt", {}, "error"), el("dd", {}, pre(t.dead.error))] : []),
      el("dt", {}, "provenance"), el("dd", {}, line?.provenance ? pre(line.provenance) : "-"),
    );
  } catch (err) {
    facts.replaceChildren(el("dt", {}, "error"), el("dd", {}, err.message));
  }
}

function draw(s) {
  readOnly = s.readOnly;
  $("readonly").hidden = !readOnly;
  $("server").textContent = s.status.server;
  const empty = s.status.queues.length === 0;
  $("empty").hidden = !empty;
  for (const id of ["queues-section", "jobs-section", "chart-section", "workers-section", "dead-section"]) $(id).hidden = empty;
  if (s.error) notice(`the server did not answer: ${s.error}`, true);
  else if (noticeIsError) notice(undefined);
  rows($("queues").tBodies[0], s.status.queues.map(queueRow));
  // Jobs still running first, then the most recent finished ones.
  const left = (j) => j.total - j.ok - j.dead;
  const jobs = [...s.status.jobs].reverse().sort((a, b) => Number(left(b) > 0) - Number(left(a) > 0));
  const shown = jobs.filter((j, i) => left(j) > 0 || i < MAX_JOBS);
  const more = jobs.length - shown.length;
  $("jobs").replaceChildren(...shown.map(jobCard), ...(more > 0 ? [el("p", { class: "muted" }, `and ${more} finished jobs more (fanout status lists them all)`)] : []));
  rows($("workers").tBodies[0], s.workers.length ? s.workers.map(workerRow) : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, "no workers heard from"))]);
  rows($("dead").tBodies[0], s.dead.length ? s.dead.map(deadRow) : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, "no dead letters"))]);
  if (!empty && globalThis.uPlot) drawChart($("chart"), s.throughput);
}

void follow(draw, (state) => {
  $("link").textContent = state;
  $("link").className = state === "live" ? "badge live" : "badge warn";
});
