/** What a worker has done so far: its tasks settled ok or dead, retried, and skipped as done on an earlier delivery. */
export interface WorkerStats {
  worker: string;
  queue: string;
  ok: number;
  dead: number;
  retried: number;
  skipped: number;
}
