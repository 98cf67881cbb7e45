// Scoped API tokens: made here, stored hashed, checked in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SluiceError } from '../errors.js';
import type { Store } from '../store/store.js';
import { insertTokenRecord, listTokenRecords, revokeTokenRecord, type Scope, type TokenRecord } from '../store/tokens.js';
import { systemClock, type Clock } from '../model/clock.js';

export { SCOPES, type Scope } from '../store/tokens.js';

export interface Principal {
  readonly name: string;
  readonly scope: Scope;
}

/** `admin` includes `read` and `ingest`; the others only themselves. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  return have === 'admin' || have === need;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function newTokenSecret(scope: Scope): string {
  return `sluice_${scope}_${randomBytes(24).toString('base64url')}`;
}

export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface Entry {
  readonly principal: Principal;
  readonly hash: Buffer;
}

/**
 * The tokens this process accepts, cached from the store and refreshed every
 * `refreshMs` (changes made through this process apply at once; revocations
 * made through another process apply within one refresh).
 */
export class TokenRegistry {
  #entries: Entry[] = [];
  #loadedAt = 0;
  #loading: Promise<void> | undefined;
  readonly #bootstrap: Entry | undefined;

  constructor(
    private readonly store: Store,
    bootstrapAdminToken: string | undefined,
    private readonly refreshMs = 5000,
    private readonly clock: Clock = systemClock,
  ) {
    if (bootstrapAdminToken !== undefined) {
      this.#bootstrap = { principal: { name: 'admin (SLUICE_ADMIN_TOKEN)', scope: 'admin' }, hash: hashToken(bootstrapAdminToken) };
    }
  }

  async refresh(): Promise<void> {
    const records = await listTokenRecords(this.store);
    this.#entries = records.map((r) => ({ principal: { name: r.name, scope: r.scope }, hash: Buffer.from(r.hash, 'hex') }));
    this.#loadedAt = this.clock.nowMs();
  }

  async #fresh(): Promise<void> {
    const age = this.clock.nowMs() - this.#loadedAt;
    if (age < this.refreshMs / 2) return;
    this.#loading ??= this.refresh().finally(() => (this.#loading = undefined));
    // Past half its age the list is refreshed in the background, so under
    // steady traffic a request never waits on the store; past its full age
    // a request waits, so a revocation elsewhere applies within refreshMs.
    if (age < this.refreshMs) {
      this.#loading.catch(() => {});
      return;
    }
    try {
      await this.#loading;
    } catch (e) {
      // The store is away: keep answering from the tokens loaded before
      // (revocations wait until it is back); with none loaded, say retry.
      if (this.#loadedAt === 0) throw new SluiceError('SLUICE_ERR_STORE_UNAVAILABLE', 'the token store is unreachable; retry', { retryAfter: 1, cause: e });
    }
  }

  /** The principal a presented token belongs to, or undefined. */
  async authenticate(token: string): Promise<Principal | undefined> {
    await this.#fresh();
    const presented = hashToken(token);
    let found: Principal | undefined;
    // Compare against every entry, without an early exit, so the time taken
    // says nothing about which or how many hashes matched.
    const all = this.#bootstrap ? [this.#bootstrap, ...this.#entries] : this.#entries;
    for (const e of all) {
      if (timingSafeEqual(e.hash, presented) && found === undefined) found = e.principal;
    }
    return found;
  }

  async list(): Promise<Array<{ name: string; scope: Scope; created_at: string }>> {
    return (await listTokenRecords(this.store)).map(({ name, scope, created_at }) => ({ name, scope, created_at }));
  }

  async hasAny(): Promise<boolean> {
    return this.#bootstrap !== undefined || (await listTokenRecords(this.store)).length > 0;
  }

  async create(name: string, scope: Scope): Promise<{ name: string; scope: Scope; token: string }> {
    if (!TOKEN_NAME.test(name)) throw new SluiceError('SLUICE_ERR_VALIDATION', 'token name must be 1-64 letters, digits, . _ or -');
    const existing = await listTokenRecords(this.store);
    if (existing.some((r) => r.name === name)) throw new SluiceError('SLUICE_ERR_TOKEN_EXISTS', `a token named ${name} already exists`);
    const token = newTokenSecret(scope);
    await insertTokenRecord(this.store, name, scope, hashToken(token).toString('hex'), this.clock.nowMs());
    await this.refresh();
    return { name, scope, token };
  }

  async revoke(name: string): Promise<void> {
    const records = await listTokenRecords(this.store);
    const record: TokenRecord | undefined = records.find((r) => r.name === name);
    if (!record) throw new SluiceError('SLUICE_ERR_TOKEN_NOT_FOUND', `no active token is named ${name}`);
    // Without an admin token nobody can make tokens through the API again
    // (only the CLI on the store's machine could). SLUICE_ADMIN_TOKEN counts.
    if (record.scope === 'admin' && !this.#bootstrap && !records.some((r) => r.scope === 'admin' && r.name !== name)) {
      throw new SluiceError('SLUICE_ERR_LAST_ADMIN_TOKEN', `${name} is the last admin token: create another admin token before revoking it`);
    }
    await revokeTokenRecord(this.store, record);
    await this.refresh();
  }
}
