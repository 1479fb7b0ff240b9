import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Creates the process logger: JSON lines on stderr, so that command output on
 * stdout (tables, --json) stays machine-readable.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination(2));
}

/** A logger that drops everything, for tests and one-shot CLI reads. */
export const silentLogger: Logger = pino({ level: 'silent' });
