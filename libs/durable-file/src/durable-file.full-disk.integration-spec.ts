import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAN_MOUNT_TMPFS, fillUntilFull, mountSmallTmpfs, type SmallTmpfs } from '@airlock/testing';
import { appendDurably, rewriteDurably } from './durable-file';

const describeOnTmpfs = CAN_MOUNT_TMPFS ? describe : describe.skip;

describeOnTmpfs(`durable file writes on a real, full 64 KiB tmpfs${CAN_MOUNT_TMPFS ? '' : ' (skipped: mounting a tmpfs needs root)'}`, () => {
  let tmpfs: SmallTmpfs;
  const filler = () => join(tmpfs.path, 'filler');

  beforeAll(() => {
    tmpfs = mountSmallTmpfs('64k');
  });

  afterAll(() => {
    tmpfs.unmount();
  });

  afterEach(() => {
    rmSync(filler(), { force: true });
  });

  it('appendDurably cuts a refused append back off, leaving the file as it was', () => {
    const file = join(tmpfs.path, 'append.jsonl');
    writeFileSync(file, '{"id":1}\n');
    const fd = openSync(file, 'a');
    try {
      fillUntilFull(filler());
      const onTornTail = jest.fn();
      // Bigger than any space left in the file's last page, so the disk must refuse it.
      expect(() => appendDurably(fd, Buffer.from(`${JSON.stringify({ id: 2, pad: 'x'.repeat(8192) })}\n`), onTornTail)).toThrow(
        expect.objectContaining({ code: 'ENOSPC' }) as Error,
      );
      expect(onTornTail).not.toHaveBeenCalled();
      expect(readFileSync(file, 'utf8')).toBe('{"id":1}\n');
      rmSync(filler());
      appendDurably(fd, Buffer.from('{"id":2}\n'), onTornTail);
      expect(readFileSync(file, 'utf8')).toBe('{"id":1}\n{"id":2}\n');
    } finally {
      closeSync(fd);
    }
  });

  it('rewriteDurably leaves the old file and no temporary file when the disk refuses the new one', () => {
    const file = join(tmpfs.path, 'rewrite.jsonl');
    writeFileSync(file, 'old\n');
    fillUntilFull(filler());
    expect(() => rewriteDurably(file, Buffer.alloc(16 * 1024, 0x61))).toThrow(expect.objectContaining({ code: 'ENOSPC' }) as Error);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(existsSync(`${file}.tmp`)).toBe(false);
    rmSync(filler());
    rewriteDurably(file, Buffer.from('new\n'));
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
