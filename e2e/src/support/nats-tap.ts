import { connect } from '@nats-io/transport-node';

/** One message seen on the NATS server: its subject, reply subject, headers and payload as text. */
export interface TappedNatsMessage {
  readonly subject: string;
  readonly text: string;
}

/** Every message published on a NATS server while the tap is open: a wiretap on `>`, for canary scans. */
export interface NatsTap {
  readonly messages: readonly TappedNatsMessage[];
  /** Flushes what is in flight and closes the connection. */
  close(): Promise<void>;
}

/**
 * Subscribes to `>` (every subject of the account, JetStream's `$JS.API` and KV subjects
 * included) and keeps each message as text: subject, reply subject, headers and payload
 * (decoded as UTF-8: ASCII inside a binary payload, such as a protobuf string field, stays readable).
 */
export async function tapNats(url: string): Promise<NatsTap> {
  const connection = await connect({ servers: url, name: 'e2e-canary-tap' });
  const messages: TappedNatsMessage[] = [];
  const subscription = connection.subscribe('>');
  const reading = (async () => {
    for await (const message of subscription) {
      const headers = message.headers ? [...message.headers.keys()].map((key) => `${key}: ${message.headers?.values(key).join(', ') ?? ''}`).join('\n') : '';
      const payload = Buffer.from(message.data);
      messages.push({ subject: message.subject, text: [message.subject, message.reply ?? '', headers, payload.toString('utf8')].join('\n') });
    }
  })();
  return {
    messages,
    async close() {
      await connection.flush();
      await connection.drain();
      await reading;
    },
  };
}
