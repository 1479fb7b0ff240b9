import { sql } from 'kysely';

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

/**
 * Finished runs that an aggregate covers: those with an id above `afterId`,
 * and those listed in `finishedIds`. A result row has `settled` true when it
 * counts runs with an id up to `settledId`, and false when it counts runs
 * above it.
 */
export interface RunRange {
  afterId: string;
  settledId: string;
  finishedIds: readonly string[];
}

/** A queued or running run. */
export interface UnfinishedRun {
  id: string;
  task_name: string;
  status: 'queued' | 'running';
  started_at: Date | null;
}

/** Finished runs of one task and outcome, with their durations in seconds. */
export interface FinishedRunGroup {
  task_name: string;
  status: 'succeeded' | 'failed';
  settled: boolean;
  runs: number;
  /** Runs that have both started_at and finished_at, so a duration. */
  timed_runs: number;
  /** Sum of the durations in seconds, exact decimal text. */
  duration_sum: string;
  /** Timed runs whose duration is at most each bound, in the order of the bounds. */
  bucket_counts: number[];
  last_finished_at: Date;
}

/** Totals that create_daily_billing_records runs report in their results. */
export interface BillingResultGroup {
  settled: boolean;
  records_created: string;
  /** CNY, exact decimal text. */
  amount_created: string;
  records_rerated: string;
}

/** Syncs of one inventory source with one outcome, from sync_vm_status results. */
export interface SourceSyncGroup {
  source: string;
  status: string;
  settled: boolean;
  syncs: number;
  last_finished_at: Date;
}

/** SQL condition on `id` for the runs of `range`. The ids travel as one text parameter, which PGlite and pg both send. */
function inRange(range: RunRange) {
  const ids = range.finishedIds.join(',');
  return sql`(id > ${range.afterId}::bigint OR id = ANY(string_to_array(${ids}::text, ',')::bigint[]))`;
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

  /** Lists the queued and running runs in id order; reads only the partial index task_runs_unfinished and its rows. */
  async getUnfinished(): Promise<UnfinishedRun[]> {
    const { rows } = await sql<UnfinishedRun>`
      SELECT id, task_name, status, started_at
      FROM task_runs
      WHERE status IN ('queued', 'running')
      ORDER BY id`.execute(this.db);
    return rows;
  }

  /**
   * Returns the highest id of the runs created at least `marginSeconds` ago by
   * the database clock, or '0'. It scans the primary key backwards and stops
   * at the first such run.
   */
  async getSettledId(marginSeconds: number): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      SELECT id
      FROM task_runs
      WHERE created_at < now() - make_interval(secs => ${marginSeconds})
      ORDER BY id DESC
      LIMIT 1`.execute(this.db);
    return rows[0]?.id ?? '0';
  }

  /** Counts finished runs in `range` by task and outcome, with duration sums and cumulative bucket counts. */
  async aggregateFinishedRuns(range: RunRange, bucketBounds: readonly number[]): Promise<FinishedRunGroup[]> {
    const bucketCounts = sql.join(
      bucketBounds.map((bound) => sql`count(*) FILTER (WHERE duration <= ${bound}::numeric)`),
    );
    const { rows } = await sql<FinishedRunGroup>`
      SELECT task_name, status, settled,
        count(*)::integer AS runs,
        count(duration)::integer AS timed_runs,
        COALESCE(sum(duration), 0)::text AS duration_sum,
        jsonb_build_array(${bucketCounts}) AS bucket_counts,
        max(finished_at) AS last_finished_at
      FROM (
        SELECT task_name, status, finished_at,
          id <= ${range.settledId}::bigint AS settled,
          extract(epoch FROM finished_at - started_at) AS duration
        FROM task_runs
        WHERE ${inRange(range)} AND status IN ('succeeded', 'failed')
      ) AS runs
      GROUP BY task_name, status, settled
      ORDER BY task_name, status, settled`.execute(this.db);
    return rows;
  }

  /** Sums records_created, amount_created and records_rerated over the results of billing runs in `range`. */
  async aggregateBillingResults(range: RunRange): Promise<BillingResultGroup[]> {
    const { rows } = await sql<BillingResultGroup>`
      SELECT id <= ${range.settledId}::bigint AS settled,
        COALESCE(sum((result ->> 'records_created')::bigint), 0)::text AS records_created,
        COALESCE(sum((result ->> 'amount_created')::numeric), 0)::text AS amount_created,
        COALESCE(sum((result ->> 'records_rerated')::bigint), 0)::text AS records_rerated
      FROM task_runs
      WHERE task_name = 'create_daily_billing_records'
        AND ${inRange(range)}
        AND status IN ('succeeded', 'failed')
        AND result IS NOT NULL
      GROUP BY 1
      ORDER BY 1`.execute(this.db);
    return rows;
  }

  /**
   * Counts the source results listed in sync_vm_status runs in `range` by
   * source and status. Own-database sources are left out, because a sync
   * skips them.
   */
  async aggregateSourceSyncs(range: RunRange): Promise<SourceSyncGroup[]> {
    const { rows } = await sql<SourceSyncGroup>`
      SELECT source ->> 'source' AS source, source ->> 'status' AS status,
        id <= ${range.settledId}::bigint AS settled,
        count(*)::integer AS syncs,
        max(finished_at) AS last_finished_at
      FROM task_runs
      CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(result -> 'sources') = 'array' THEN result -> 'sources' ELSE '[]' END
      ) AS source
      WHERE task_name = 'sync_vm_status'
        AND ${inRange(range)}
        AND status IN ('succeeded', 'failed')
        AND (source ->> 'own_database') IS DISTINCT FROM 'true'
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`.execute(this.db);
    return rows;
  }
}
