/** What a worker has done so far: its tasks settled ok or dead, retried, and skipped as done on an earlier delivery; at its stop, the pulls the server refused. */
export interface WorkerStats {
  worker: string;
  queue: string;
  ok: number;
  dead: number;
  retried: number;
  skipped: number;
  pullsRefused?: number;
}
