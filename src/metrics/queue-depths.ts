/** Jobs of one queue in one state, e.g. `{queue: 'billing', state: 'waiting', count: 3}`. */
export interface QueueDepth {
  queue: string;
  /** BullMQ job state: waiting, active, delayed, failed, completed, paused or prioritized. */
  state: string;
  count: number;
}

/**
 * Source of queue depths for /metrics. The distributed shape reads them from
 * BullMQ; the embedded shape has no queues and passes none, so /metrics then
 * has no queue metrics.
 */
export interface QueueDepthSource {
  getCounts(): Promise<QueueDepth[]>;
}
