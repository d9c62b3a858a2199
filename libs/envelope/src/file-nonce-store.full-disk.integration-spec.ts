import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CAN_MOUNT_TMPFS, fillUntilFull, mountSmallTmpfs, type SmallTmpfs } from '@airlock/testing';
import { FileNonceStore } from './file-nonce-store';

const describeOnTmpfs = CAN_MOUNT_TMPFS ? describe : describe.skip;
const nonce = (n: number) => n.toString(16).padStart(32, '0');

describeOnTmpfs(`FileNonceStore on a real 64 KiB tmpfs${CAN_MOUNT_TMPFS ? '' : ' (skipped: mounting a tmpfs needs root)'}`, () => {
  let tmpfs: SmallTmpfs;
  let directory: string;
  let store: FileNonceStore | undefined;
  const now = () => 1_000_000;

  beforeAll(() => {
    tmpfs = mountSmallTmpfs('64k');
  });

  afterAll(() => {
    tmpfs.unmount();
  });

  beforeEach(() => {
    directory = join(tmpfs.path, `case-${Math.random().toString(16).slice(2)}`);
    mkdirSync(directory);
  });

  afterEach(() => {
    store?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses a nonce it cannot write, leaves the file whole, and works again once space returns, without a restart', () => {
    const file = join(directory, 'nonces.jsonl');
    store = FileNonceStore.open(file, now);
    expect(store.remember(nonce(1), 2_000_000)).toBe(true);
    const filler = join(directory, 'filler');
    fillUntilFull(filler);
    let refused: unknown;
    for (let n = 2; n < 500 && refused === undefined; n += 1) {
      try {
        store.remember(nonce(n), 2_000_000);
      } catch (error) {
        refused = error;
      }
    }
    expect((refused as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // Every line on disk is whole: no partial line for the next append to run into.
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    rmSync(filler);
    expect(store.remember(nonce(9_999), 2_000_000)).toBe(true);
    store.close();
    store = FileNonceStore.open(file, now);
    expect(store.remember(nonce(9_999), 2_000_000)).toBe(false);
    expect(store.remember(nonce(1), 2_000_000)).toBe(false);
  });

  it('opens on a full disk, keeping its old file when there is no room to compact it', () => {
    const file = join(directory, 'nonces.jsonl');
    store = FileNonceStore.open(file, now);
    expect(store.remember(nonce(1), 2_000_000)).toBe(true);
    store.close();
    fillUntilFull(join(directory, 'filler'));
    store = FileNonceStore.open(file, now);
    expect(store.remember(nonce(1), 2_000_000)).toBe(false);
  });
});
