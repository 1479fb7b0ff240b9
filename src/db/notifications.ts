import pg from 'pg';

import type { Logger } from '../logger.js';

/** Receives the notifications of one channel (PostgreSQL LISTEN/NOTIFY). */
export interface ChannelListener {
  /** Called for each notification on the channel. */
  onNotification(payload: string): void;
  /** Called when the subscription starts receiving, at first and after each reconnect. Notifications sent before are not delivered. */
  onListening(): void;
  /** Called when the subscription stops receiving. Notifications are lost until `onListening` is called again. */
  onInterrupted(): void;
}

export interface ChannelSubscription {
  close(): Promise<void>;
}

/** First and maximum wait before reconnecting a lost listening connection, in milliseconds. */
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;
/** Time allowed to open the connection and for each statement on it, in milliseconds. */
const STATEMENT_TIMEOUT_MS = 10_000;
/**
 * Interval of the statement that checks an idle listening connection, in
 * milliseconds. A connection that a firewall or NAT dropped without a reset
 * reports nothing by itself, and its notifications would be lost unnoticed.
 */
const HEARTBEAT_MS = 30_000;

/**
 * Listens on one channel of a PostgreSQL server over a connection of its own,
 * outside the pool, because a pooled connection would drop its LISTEN when it
 * goes back to the pool. A lost connection is reopened with a growing wait,
 * until `close()`.
 */
export class PostgresChannelSubscription implements ChannelSubscription {
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = RECONNECT_FIRST_MS;
  private closed = false;
  /** Clients whose loss was reported. A failed client emits 'error' and 'end' and its connect() rejects, so each loss is reported once. */
  private readonly lostClients = new WeakSet<pg.Client>();

  constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly listener: ChannelListener,
    private readonly logger: Logger,
  ) {}

  /** Connects and starts listening. A failure is logged and retried in the background, not thrown. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
    });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.listener.onNotification(message.payload ?? '');
    });
    client.on('error', (error) => this.lose(client, error));
    client.on('end', () => this.lose(client, undefined));

    try {
      await client.connect();
      // The channel is an identifier written by this program, never user input.
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      this.lose(client, error as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }

    this.client = client;
    this.reconnectDelayMs = RECONNECT_FIRST_MS;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch((error: Error) => this.lose(client, error));
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    this.logger.debug({ channel: this.channel }, 'listening for PostgreSQL notifications');
    this.listener.onListening();
  }

  /** Reports the loss of `client` once, and schedules a reconnect unless closed. */
  private lose(client: pg.Client, error: Error | undefined): void {
    if (this.lostClients.has(client)) return;
    this.lostClients.add(client);
    if (this.client === client) {
      this.client = undefined;
      clearInterval(this.heartbeatTimer);
    }
    client.end().catch(() => undefined);
    this.listener.onInterrupted();
    if (this.closed) return;

    const delayMs = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
    this.logger.warn(
      {
        channel: this.channel,
        error: error && { message: error.message, code: (error as { code?: string }).code },
        retry_in_ms: delayMs,
      },
      'PostgreSQL notification connection lost',
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delayMs);
    this.reconnectTimer.unref();
  }
}
