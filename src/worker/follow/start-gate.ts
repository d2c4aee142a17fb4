import { setTimeout as sleep } from "node:timers/promises";
import { giveTicketBack, takeTickets } from "../claim/rate-pacer.js";
import { RESERVATION_RENEW_MS, type Task, type Usage } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import type { QueueStore } from "../../store/queues.js";
import type { AuditLog } from "../../store/audit-log.js";
import type { StartSlots } from "../../store/start-slots.js";
import { ticketGood, type Rate, type StartTicket } from "../../policy/rate.js";
import type { UsageStore } from "../../store/usage.js";
import { budgetVerdict, hasBudget, meanUsage } from "../../policy/budget.js";
import { budgetStep, firstCheck } from "../../policy/admission.js";
import { randomBytes } from "node:crypto";
import type { QueueFollower } from "./queue-follower.js";
import { pauseFleet } from "./queue-events.js";
import type { NatsConnection } from "@nats-io/transport-node";

/** Whether a claimed task starts now, or goes back unrun (spending no attempt) to come again after `delayMs`. */
export type Admission = { kind: "start"; end: (used: Usage | undefined) => Promise<void> } | { kind: "back"; delayMs?: number; why: string };

/** Waiting for its start, a claimed task looks this often whether it should stop waiting. */
const WAIT_STEP_MS = 200;

/**
 * The last check before a claimed task starts, for the limits its queue
 * shares across the fleet (docs/architecture.md, "Fleet limits"): a hold after
 * a "too many requests", a budget, a rate. A queue with none of them costs
 * nothing here. Tasks it turns away go back unrun, spending no attempt. Under
 * a rate, a task was pulled for a start ticket (`RatePacer`) and starts on it;
 * one that came late for it takes a new one and waits for it, claimed.
 */
export class StartGate {
  private reservations = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** This worker process's entry among a budget's reservations: its name, and a random part (a restart is another). */
  private readonly reserver: string;

  constructor(
    private readonly o: {
      nc: NatsConnection;
      prefix: string;
      queue: string;
      worker: string;
      follower: QueueFollower;
      usage: UsageStore;
      slots: StartSlots;
      queues: QueueStore;
      audit: AuditLog;
      log: Logger;
    },
  ) {
    this.reserver = `${o.worker}#${randomBytes(4).toString("hex")}`;
  }

  async admit(task: Task, signal: AbortSignal, ticket?: StartTicket): Promise<Admission> {
    const { follower } = this.o;
    // Pulled before a pause or a hold reached this worker: back, unrun.
    const first = firstCheck({ paused: follower.isPaused, holdLeftMs: follower.holdLeftMs, state: follower.state });
    if (first.kind === "back") return first;
    if (first.kind === "start") return { kind: "start", end: (used) => this.end(task, undefined, used) };
    try {
      return await this.limited(task, signal, ticket);
    } catch (err) {
      // The server could not say: the task waits, unspent, rather than run past a limit.
      this.o.log.warn({ taskId: task.id, err }, "could not check the queue's budget or rate; the task goes back for a second");
      return { kind: "back", delayMs: 1000, why: "the queue's limits could not be checked" };
    }
  }

  private async limited(task: Task, signal: AbortSignal, ticket: StartTicket | undefined): Promise<Admission> {
    const { follower } = this.o;
    const state = follower.state;
    let reserved: Usage | undefined;
    const onError = async (err: unknown): Promise<never> => {
      if (reserved) await this.end(task, reserved, undefined);
      throw err;
    };
    if (hasBudget(state)) {
      const room = await this.o.usage.reserveIfRoom(this.o.queue, this.reserver, (totals) => budgetVerdict(state!, totals), meanUsage);
      const step = budgetStep(room.verdict);
      if (step.kind === "back") {
        if (step.pauseQueue) await this.pauseForBudget(step.pauseQueue, task);
        if (step.pauseClaimsMs) follower.pauseClaims(step.pauseClaimsMs);
        return { kind: "back", delayMs: step.delayMs, why: step.why };
      }
      reserved = room.reserved ?? {};
      this.held(+1);
    }
    if (state?.rate && !(await this.startTime(task, state.rate, ticket, signal).catch(onError))) {
      if (reserved) await this.end(task, reserved, undefined);
      return { kind: "back", delayMs: follower.holdLeftMs, why: "the queue was paused or held, or the worker is stopping, while the task waited for its start" };
    }
    return { kind: "start", end: (used) => this.end(task, reserved, used) };
  }

  /**
   * Waits for the task's start under the queue's rate: the ticket it was pulled
   * for, or a new one when it came late for that or woke late for it (a busy
   * machine's timer). False when the worker stops or the queue is paused or
   * held meanwhile (a ticket not yet due goes back).
   */
  private async startTime(task: Task, rate: Rate, ticket: StartTicket | undefined, signal: AbortSignal): Promise<boolean> {
    let start = ticket;
    for (;;) {
      if (!start || !ticketGood(start, rate, Date.now())) {
        this.o.log.debug({ taskId: task.id, lateMs: start && Date.now() - start.at }, "the task is late for its start ticket: taking another");
        [start] = await takeTickets(this.o.slots, this.o.queue, rate, 1, 0);
      }
      await this.waitFor(start!.at - Date.now(), signal);
      if (signal.aborted || this.closing || this.o.follower.isPaused || this.o.follower.isHeld) {
        if (start!.at > Date.now()) await giveTicketBack(this.o.slots, this.o.queue, start!).catch((err: unknown) => this.o.log.debug({ err }, "could not give a start ticket back"));
        return false;
      }
      // The start is stamped now: within a third of an interval of its ticket, or the rate's bound does not hold.
      if (ticketGood(start!, rate, Date.now())) return true;
    }
  }

  /** Waits `ms`, waking early when the worker stops or the queue is paused or held. */
  private async waitFor(ms: number, signal: AbortSignal): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !signal.aborted && !this.closing && !this.o.follower.isPaused && !this.o.follower.isHeld) {
      await sleep(Math.min(WAIT_STEP_MS, until - Date.now()), undefined, { signal }).catch(() => {});
    }
  }

  /** The worker is stopping: tasks still waiting for a start go back unrun. */
  close(): void {
    this.closing = true;
  }

  stop(): void {
    this.closing = true;
    clearInterval(this.renewTimer);
  }

  /** The attempt is over: its reservation goes, and what it used is added to its queue's and job's totals. */
  private async end(task: Task, reserved: Usage | undefined, used: Usage | undefined): Promise<void> {
    try {
      if (reserved) {
        this.held(-1);
        await this.o.usage.settleReserved(task.queue, task.job, this.reserver, reserved, used);
      } else if (used) {
        await this.o.usage.spent(task.queue, task.job, used);
      }
    } catch (err) {
      this.o.log.warn({ taskId: task.id, job: task.job, err, usage: used }, "could not add the attempt's usage to its queue's and job's totals");
    }
  }

  private async pauseForBudget(reason: string, task: Task): Promise<void> {
    if (this.o.follower.isPaused) return;
    this.o.audit.record({ type: "paused", job: task.job, queue: task.queue, id: task.id, worker: this.o.worker, reason });
    this.o.log.warn({ reason }, "the queue's budget is spent: pausing it for every worker");
    await pauseFleet(this.o.queues, this.o.nc, this.o.prefix, { queue: this.o.queue, reason, by: this.o.worker }, this.o.log);
  }

  /** Renews this worker's reservations while it holds any, so peers do not take it for gone. */
  private held(change: number): void {
    this.reservations += change;
    if (this.reservations > 0 && !this.renewTimer) {
      this.renewTimer = setInterval(() => void this.o.usage.renew(this.o.queue, this.reserver).catch(() => {}), RESERVATION_RENEW_MS);
      this.renewTimer.unref();
    } else if (this.reservations === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
  }
}
