import type { Db } from '../database.js';
import type { TaskRun, TaskRunStatus, TaskTrigger } from '../schema.js';

export interface TaskRunListFilter {
  taskName?: string;
  status?: TaskRunStatus;
  trigger?: TaskTrigger;
  orderBy: 'id' | 'started_at' | 'finished_at';
  direction: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export class TaskRunRepository {
  constructor(private readonly db: Db) {}

  createRunning(run: {
    task_name: string;
    queue: string;
    trigger: TaskTrigger;
    arguments: object;
    started_at: Date;
  }) {
    return this.db
      .insertInto('task_runs')
      .values({ ...run, arguments: JSON.stringify(run.arguments), status: 'running', attempts: 1 })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Inserts a run that waits in a queue; a worker marks it running when it takes the job. */
  createQueued(run: { task_name: string; queue: string; trigger: TaskTrigger; arguments: object }) {
    return this.db
      .insertInto('task_runs')
      .values({ ...run, arguments: JSON.stringify(run.arguments), status: 'queued', attempts: 0 })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  setJobId(id: string, jobId: string): Promise<TaskRun> {
    return this.db
      .updateTable('task_runs')
      .set({ job_id: jobId })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Marks a queued run as running and counts the attempt; undefined when the run does not exist. */
  markRunning(id: string, startedAt: Date): Promise<TaskRun | undefined> {
    return this.db
      .updateTable('task_runs')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        started_at: eb.fn.coalesce('started_at', eb.val(startedAt)),
        finished_at: null,
      }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Inserts the run of a scheduled job, or marks the job's existing run
   * running again when the job is retried or recovered from a dead worker.
   */
  startForJob(run: {
    job_id: string;
    task_name: string;
    queue: string;
    trigger: TaskTrigger;
    arguments: object;
    started_at: Date;
  }): Promise<TaskRun> {
    return this.db
      .insertInto('task_runs')
      .values({ ...run, arguments: JSON.stringify(run.arguments), status: 'running', attempts: 1 })
      .onConflict((oc) =>
        oc
          .column('job_id')
          .where('job_id', 'is not', null)
          .doUpdateSet((eb) => ({
            status: 'running',
            attempts: eb('task_runs.attempts', '+', 1),
            finished_at: null,
          })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Puts a run back to queued after a failed attempt that BullMQ retries, keeping the attempt's error. */
  markRetrying(id: string, error: string): Promise<TaskRun> {
    return this.db
      .updateTable('task_runs')
      .set({ status: 'queued', error })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  getByJobId(jobId: string): Promise<TaskRun | undefined> {
    return this.db.selectFrom('task_runs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  }

  markSucceeded(id: string, result: object, finishedAt: Date): Promise<TaskRun> {
    return this.db
      .updateTable('task_runs')
      .set({ status: 'succeeded', result: JSON.stringify(result), error: null, finished_at: finishedAt })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  markFailed(id: string, error: string, finishedAt: Date, result: object | null = null): Promise<TaskRun> {
    return this.db
      .updateTable('task_runs')
      .set({
        status: 'failed',
        error,
        result: result === null ? null : JSON.stringify(result),
        finished_at: finishedAt,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  getLastByTask(taskName: string): Promise<TaskRun | undefined> {
    return this.db
      .selectFrom('task_runs')
      .selectAll()
      .where('task_name', '=', taskName)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  getLatest(filter: { taskName?: string; limit: number }): Promise<TaskRun[]> {
    let query = this.db.selectFrom('task_runs').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.taskName) query = query.where('task_name', '=', filter.taskName);
    return query.execute();
  }

  getById(id: string): Promise<TaskRun | undefined> {
    return this.db.selectFrom('task_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Returns one page of runs matching `filter` and the total count. Ties in `orderBy` are ordered by id. */
  async getPage(filter: TaskRunListFilter): Promise<{ rows: TaskRun[]; count: number }> {
    let query = this.db.selectFrom('task_runs');
    if (filter.taskName) query = query.where('task_name', '=', filter.taskName);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.trigger) query = query.where('trigger', '=', filter.trigger);

    const { count } = await query
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .selectAll()
      .orderBy(filter.orderBy, filter.direction)
      .orderBy('id', filter.direction)
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return { rows, count: Number(count) };
  }
}
