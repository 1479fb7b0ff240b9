import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { Metrics } from '../../metrics/metrics.js';
import { ErrorResponse } from '../schemas.js';

/**
 * GET /metrics in the Prometheus text format. Admins may read it with their
 * session or API token; Prometheus sends `Authorization: Bearer
 * <METRICS_TOKEN>` when that setting is set.
 */
export const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const metrics = new Metrics({
    db: app.deps.database.db,
    billingTimezone: app.deps.settings.billingTimezone,
    queueDepths: app.deps.queueDepths,
    logger: app.deps.logger.child({ component: 'metrics' }),
  });

  app.get(
    '/metrics',
    {
      config: { access: 'admin', serviceToken: app.deps.settings.metricsToken },
      schema: {
        tags: ['monitoring'],
        summary: 'Prometheus 指标 / Prometheus metrics',
        description:
          '任务执行、计费、清单同步、队列深度与进程指标；管理员或 METRICS_TOKEN 可读 / ' +
          'task runs, billing, inventory syncs, queue depths and process metrics; ' +
          'readable by admins or with Authorization: Bearer <METRICS_TOKEN>',
        security: [{ session: [] }, { token: [] }, { metricsToken: [] }],
        response: {
          200: {
            description: 'Prometheus 文本格式 / Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: Type.String() } },
          },
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (_request, reply) => {
      const body = await metrics.render();
      return reply.type(metrics.contentType).send(body);
    },
  );
};
