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

  markSucceeded(id: string, result: object, finishedAt: Date): Promise<TaskRun> {
    return this.db
      .updateTable('task_runs')
      .set({ status: 'succeeded', result: JSON.stringify(result), finished_at: finishedAt })
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
