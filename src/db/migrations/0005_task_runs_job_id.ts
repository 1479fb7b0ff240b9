/**
 * Links a TaskRun to the BullMQ job that runs it in distributed mode. A job
 * that a worker retries, or that another worker takes over after the first
 * one died, finds its TaskRun by this id instead of starting a second one.
 * Embedded runs leave it null.
 */
export const statements = [
  `ALTER TABLE task_runs ADD COLUMN job_id text`,
  `CREATE UNIQUE INDEX task_runs_job_id ON task_runs (job_id) WHERE job_id IS NOT NULL`,
];
