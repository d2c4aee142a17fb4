import { settledSeq } from "../../channels/index.js";

// Promise 2, none reported twice: an id's one line is its latest outcome; a dead
// letter superseded by a result or a retry is not the id's line.
/**
 * Whether a dead letter (stream sequence `seq`, settling the task message its
 * msg-id names) is its task's latest word: no newer dead letter of the id
 * (`newestDeadSeq`), no result of it, and no task message of it published
 * after the one the letter settles (a retry, waiting or running, whose own
 * outcome is to come). Compared by stream sequence, never by clock.
 */
export function deadLetterIsLatest(letter: { seq: number; msgId?: string }, stored: { newestDeadSeq?: number; result: boolean; taskSeqs: Array<number | undefined> }): boolean {
  if (stored.newestDeadSeq !== undefined && stored.newestDeadSeq !== letter.seq) return false;
  if (stored.result) return false;
  const settles = settledSeq(letter.msgId);
  return stored.taskSeqs.every((seq) => seq === undefined || (settles !== undefined && seq <= settles));
}

/** Whether a stored outcome (of msg-id `msgId`) settles the task message of stream sequence `taskSeq`: a retry is another message, and runs. */
export function settles(msgId: string | undefined, taskSeq: number): boolean {
  return settledSeq(msgId) === taskSeq;
}
