/** Thrown by a task that finished its work but failed part of it; the run is failed and keeps `result`. */
export class TaskPartlyFailedError extends Error {
  override name = 'TaskPartlyFailedError';

  constructor(
    message: string,
    readonly result: Record<string, unknown>,
  ) {
    super(message);
  }
}
