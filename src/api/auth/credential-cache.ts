import type { AuthenticatedUser } from '../../db/repositories/user.repository.js';
import type { ChannelListener } from '../../db/notifications.js';

/** A token or session found valid, with what later requests must still check themselves. */
export type CachedCredential =
  | { kind: 'token'; user: AuthenticatedUser; tokenId: number; lastUsedAt: Date | null }
  | { kind: 'session'; user: AuthenticatedUser; expiresAt: Date };

/** Maximum number of credentials kept. Beyond it, the oldest entry is dropped. */
const MAX_ENTRIES = 10_000;

/**
 * Age in milliseconds after which a credential is looked up again, even
 * without a notification. It bounds how long a notification lost in a way
 * that the subscription cannot detect keeps a revoked credential valid.
 */
export const CREDENTIAL_MAX_AGE_MS = 60_000;

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
 * during the lookup is not cached as valid. Entries expire after
 * CREDENTIAL_MAX_AGE_MS in any case.
 */
export class CredentialCache implements ChannelListener {
  private readonly entries = new Map<string, { credential: CachedCredential; storedAt: number }>();
  private listening = false;
  private emptied = 0;

  /** Counter of emptyings. Pass the value read before a lookup to `set`. */
  get generation(): number {
    return this.emptied;
  }

  /** Returns the credential stored for `secretHash` less than CREDENTIAL_MAX_AGE_MS before `now`. */
  get(secretHash: string, now = Date.now()): CachedCredential | undefined {
    if (!this.listening) return undefined;
    const entry = this.entries.get(secretHash);
    if (entry === undefined) return undefined;
    if (now - entry.storedAt >= CREDENTIAL_MAX_AGE_MS) {
      this.entries.delete(secretHash);
      return undefined;
    }
    return entry.credential;
  }

  /** Stores a credential looked up at `generation`, unless the cache was emptied since. */
  set(secretHash: string, credential: CachedCredential, generation: number, now = Date.now()): void {
    if (!this.listening || generation !== this.emptied) return;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(secretHash)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(secretHash, { credential, storedAt: now });
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
