import { Decimal } from 'decimal.js';
import { WaitingChildrenError, type Job, type Queue } from 'bullmq';

import {
  logBilledDay,
  resolveBillingDays,
  summarizeBillingRun,
  type BillingTaskArguments,
} from '../billing/create-daily-billing-records.js';
import { billChunkRange, completeDay, planDayChunks, type DayResult } from '../billing/daily-billing.js';
import { dayOf } from '../billing/days.js';
import type { Settings } from '../config/settings.js';
import type { Db } from '../db/database.js';
import { PriceVersionRepository } from '../db/repositories/price-version.repository.js';
import type { TaskRun } from '../db/schema.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  BILL_CHUNK_JOB,
  defaultJobOptions,
  type ChunkJobData,
  type ChunkJobResult,
  type TaskJobData,
} from './queues.js';

/**
 * A daily billing run split across workers. The parent job (the task
 * `create_daily_billing_records`) goes through two steps:
 *
 *  1. plan: list the days to bill, split each day's billable systems into id
 *     ranges of BILLING_CHUNK_SIZE, and add one bill_chunk child job per day
 *     and range. Child job ids are derived from the TaskRun, day and range, so
 *     a plan step repeated after a crash adds no second copy of a child.
 *  2. wait: BullMQ keeps the parent waiting until every child has completed, then the
 *     parent marks each day complete and sums the children's results into the
 *     same summary as an embedded run.
 *
 * Any worker bills any chunk. Billing a chunk twice (a retry, or a worker that
 * died after its statement committed) adds nothing, because of the unique
 * (system, day) key. A child that fails for good fails the parent
 * (failParentOnFailure) and its TaskRun, and the next scheduled run bills the
 * days left incomplete.
 */
export class BillingFanOut {
  constructor(
    private readonly db: Db,
    private readonly settings: Settings,
    private readonly billingQueue: Queue,
  ) {}

  /**
   * Runs the current step of the parent job. Throws WaitingChildrenError
   * while children are still running, which makes BullMQ park the job.
   */
  async process(
    job: Job<TaskJobData>,
    token: string,
    run: TaskRun,
    logger: Logger,
    now: Date,
  ): Promise<Record<string, unknown>> {
    if ((job.data.step ?? 'plan') === 'plan') {
      await this.#plan(job, run, logger, now);
    }

    if (await job.moveToWaitingChildren(token)) {
      throw new WaitingChildrenError();
    }
    return this.#finish(job, run, logger, now);
  }

  async #plan(job: Job<TaskJobData>, run: TaskRun, logger: Logger, now: Date): Promise<void> {
    const args = job.data.arguments as BillingTaskArguments;
    const { days, daysBeyondWindow } = await resolveBillingDays(
      {
        db: this.db,
        now,
        timezone: this.settings.billingTimezone,
        catchUpDays: this.settings.billingCatchUpDays,
        logger,
      },
      args,
    );

    // Checked here once so that a missing price fails the run with its own error, not every chunk.
    const prices = new PriceVersionRepository(this.db);
    for (const day of days) {
      if (!(await prices.getInForceOn(day))) throw new DomainError('no_price_version', { date: day });
    }

    const chunkJobOptions = {
      ...defaultJobOptions(this.settings),
      parent: { id: job.id!, queue: job.queueQualifiedName },
      failParentOnFailure: true,
    };
    const children = [];
    for (const day of days) {
      const ranges = await planDayChunks(this.db, day, {
        timezone: this.settings.billingTimezone,
        chunkSize: this.settings.billingChunkSize,
      });
      for (const range of ranges) {
        const data: ChunkJobData = { taskRunId: run.id, day, afterId: range.afterId, lastId: range.lastId };
        const jobId = `chunk-${run.id}-${day}-${range.afterId}`;
        children.push({ name: BILL_CHUNK_JOB, data, opts: { ...chunkJobOptions, jobId } });
      }
    }

    await this.billingQueue.addBulk(children);
    await job.updateData({ ...job.data, step: 'wait', plan: { runId: run.id, days, daysBeyondWindow } });
    logger.info({ days: days.length, chunks: children.length }, 'billing run planned');
  }

  async #finish(
    job: Job<TaskJobData>,
    run: TaskRun,
    logger: Logger,
    now: Date,
  ): Promise<Record<string, unknown>> {
    const plan = job.data.plan!;
    const values = Object.values(await job.getChildrenValues<ChunkJobResult>());

    const billed: DayResult[] = [];
    for (const day of plan.days) {
      const chunks = values.filter((value) => value.day === day);
      const recordsCreated = chunks.reduce((total, chunk) => total + chunk.recordsCreated, 0);
      const systemsBillable = chunks.reduce((total, chunk) => total + chunk.systems, 0);
      const completed = await completeDay(this.db, day, run.id);
      const result: DayResult = {
        day,
        systemsBillable,
        recordsCreated,
        recordsExisting: systemsBillable - recordsCreated,
        amountCreated: chunks
          .reduce((total, chunk) => total.plus(chunk.amountCreated), new Decimal(0))
          .toFixed(2),
        totalAmount: completed.total_amount,
        priceVersionId: chunks[0]?.priceVersionId ?? 0,
      };
      billed.push(result);
      logBilledDay(logger, result);
    }

    return summarizeBillingRun({
      days: plan.days,
      daysBeyondWindow: plan.daysBeyondWindow,
      billed,
      rerated: [],
      force: false,
      today: dayOf(now, this.settings.billingTimezone),
    });
  }

  /** Bills one chunk job's range and returns its counts to the parent. */
  async billChunk(job: Job<ChunkJobData>): Promise<ChunkJobResult> {
    const { taskRunId, day, afterId, lastId } = job.data;
    const chunk = await billChunkRange(
      this.db,
      day,
      { afterId, lastId },
      {
        timezone: this.settings.billingTimezone,
        chunkSize: this.settings.billingChunkSize,
        taskRunId,
      },
    );
    return {
      day,
      systems: chunk.systems,
      recordsCreated: chunk.recordsCreated,
      amountCreated: chunk.amountCreated,
      priceVersionId: chunk.priceVersionId,
    };
  }
}
