const HELLO_CONTEXT = Buffer.from('airlock.v1.hello', 'utf8');
const SEPARATOR = Buffer.from([0]);

/**
 * The exact bytes a worker signs to answer a stream's challenge (see `Hello` in the
 * proto). Binding the worker id and a context string stops a signature made for one
 * purpose or identity from being replayed for another.
 */
export function helloChallengeMessage(workerId: string, challengeNonce: Uint8Array): Buffer {
  return Buffer.concat([HELLO_CONTEXT, SEPARATOR, Buffer.from(workerId, 'utf8'), SEPARATOR, Buffer.from(challengeNonce)]);
}
