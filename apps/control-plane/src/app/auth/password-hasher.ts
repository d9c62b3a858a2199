import { Injectable } from '@nestjs/common';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { RateLimitedError } from './rate-limited.error';

// The package declares Algorithm as a const enum, which exists only for the type checker:
// at run time (SWC compiles file by file) `Algorithm.Argon2id` would be undefined.
const ARGON2ID: Algorithm = 2;

/** OWASP's argon2id parameters: 19 MiB, two passes, one lane. */
export const ARGON2_OPTIONS: Readonly<Options> = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Password length bounds, in characters: long enough for a passphrase, short enough to hash cheaply. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * The hash of a random password nobody knows, with the same parameters as real hashes. A
 * login for an unknown email verifies against it, so that it takes as long as a wrong
 * password for a real account and the timing does not tell the two apart.
 */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$5buJLeOR5dHWRGBY6SSXqA$U8wXgVn8mXS1J7CSwMG1egbHaBvSwBOm+YOjY9O7GV4';

/**
 * Each hash takes 19 MiB for tens of milliseconds; this many at once bounds the memory and
 * CPU logins can take, whatever the number of requests.
 */
const MAX_CONCURRENT_HASHES = 4;
/** Requests waiting for a turn beyond this are answered 429 at once instead of queueing without end. */
const MAX_WAITING_HASHES = 64;

/** argon2id hashing and checking of passwords, a bounded number at a time. */
@Injectable()
export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  hash(password: string): Promise<string> {
    return this.withTurn(() => hash(password, ARGON2_OPTIONS));
  }

  /** Whether `password` matches `passwordHash`; false for a hash that cannot be read. */
  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.withTurn(() => verify(passwordHash, password).catch(() => false));
  }

  /** Spends the time of one verification, for an account that does not exist or has no password. */
  async verifyDummy(password: string): Promise<void> {
    await this.verify(DUMMY_HASH, password);
  }

  private async withTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_CONCURRENT_HASHES) {
      if (this.waiting.length >= MAX_WAITING_HASHES) throw new RateLimitedError(1, 'too many password checks are running on this server');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // The turn passes straight to the next waiter, so `running` stays counted for it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
