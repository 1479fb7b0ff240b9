import type { AuthenticatedUser } from '../../db/repositories/user.repository.js';
import type { ChannelListener } from '../../db/notifications.js';

/** A token or session found valid, with what later requests must still check themselves. */
export type CachedCredential =
  | { kind: 'token'; user: AuthenticatedUser; tokenId: number; lastUsedAt: Date | null }
  | { kind: 'session'; user: AuthenticatedUser; expiresAt: Date };

/** Maximum number of credentials kept. Beyond it, the oldest entry is dropped. */
const MAX_ENTRIES = 10_000;

/**
 * The callers of recently used API tokens and sessions, by the SHA-256 hash
 * of the secret, so that a request needs no database statement to
 * authenticate. That saves one of the two statements of a page of billing
 * records.
 *
 * The cache is emptied on each notification of a change to users, tokens or
 * sessions (migration 0009 sends them from triggers, after commit), and
 * whenever the subscription is interrupted. It is in use only while the
 * subscription is listening, so a process that cannot receive notifications
 * authenticates every request against the database. A lookup that started
 * before an emptying is not stored (`generation`), so a credential revoked
 * during the lookup is not cached as valid.
 */
export class CredentialCache implements ChannelListener {
  private readonly entries = new Map<string, CachedCredential>();
  private listening = false;
  private emptied = 0;

  /** Counter of emptyings; pass the value read before a lookup to `set`. */
  get generation(): number {
    return this.emptied;
  }

  get(secretHash: string): CachedCredential | undefined {
    return this.listening ? this.entries.get(secretHash) : undefined;
  }

  /** Stores a credential looked up at `generation`, unless the cache was emptied since. */
  set(secretHash: string, credential: CachedCredential, generation: number): void {
    if (!this.listening || generation !== this.emptied) return;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(secretHash)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(secretHash, credential);
  }

  delete(secretHash: string): void {
    this.entries.delete(secretHash);
  }

  /** Forgets every credential, e.g. right after this process revoked one. */
  clear(): void {
    this.emptied += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether the subscription receives notifications, so that the cache is in use. */
  get isListening(): boolean {
    return this.listening;
  }

  onNotification(): void {
    this.clear();
  }

  onListening(): void {
    this.clear();
    this.listening = true;
  }

  onInterrupted(): void {
    this.listening = false;
    this.clear();
  }
}
