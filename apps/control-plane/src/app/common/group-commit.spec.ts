import { GroupCommit } from './group-commit';

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('commits what is submitted in one tick together, and what comes during a commit in the next', async () => {
    const commits: number[][] = [];
    let release: () => void = () => undefined;
    const committer = new GroupCommit<number, string>(async (items) => {
      commits.push([...items]);
      if (commits.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((item) => `done ${item}`);
    }, 100);

    const first = committer.submitAll([1, 2, 3]);
    await nextTick();
    const during = [committer.submit(4), committer.submit(5)];
    await nextTick();
    expect(commits).toEqual([[1, 2, 3]]); // one commit at a time
    release();
    expect(await first).toEqual(['done 1', 'done 2', 'done 3']);
    expect(await Promise.all(during)).toEqual(['done 4', 'done 5']);
    expect(commits).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('takes at most maxBatch items per commit', async () => {
    const sizes: number[] = [];
    const committer = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return [...items];
    }, 2);
    expect(await committer.submitAll([1, 2, 3, 4, 5])).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('commits the items of a failed batch one by one, so only the item the database refuses fails', async () => {
    const commits: number[][] = [];
    const committer = new GroupCommit<number, number>(async (items) => {
      commits.push([...items]);
      if (items.includes(2)) throw new Error('check constraint violated');
      return [...items];
    }, 10);
    const outcomes = await Promise.allSettled([committer.submit(1), committer.submit(2), committer.submit(3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(commits).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(await committer.submit(4)).toBe(4);
  });

  it('refuses an answer with a different number of outcomes than items', async () => {
    const committer = new GroupCommit<number, number>(async () => [1, 1, 1], 10);
    await expect(committer.submitAll([1, 2])).rejects.toThrow('3 outcomes for 1 items');
  });
});
