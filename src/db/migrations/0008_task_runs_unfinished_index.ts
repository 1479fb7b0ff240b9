/**
 * Indexes the task runs that have not finished (queued or running). Each
 * scrape of /metrics reads them to count runs in progress and to find the
 * first unfinished id, below which the run totals no longer change (see
 * src/metrics/task-run-totals.ts). Without the index both queries read every
 * row of task_runs, one per sync every 5 minutes, about 105,000 a year.
 * The index stays small because a run leaves it when it finishes.
 */
export const statements = [
  `CREATE INDEX task_runs_unfinished ON task_runs (id) WHERE status IN ('queued', 'running')`,
];
