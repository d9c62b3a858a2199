import { randomUUID } from 'node:crypto';
import { ResultDisposition, type ControlFrame__Output } from '@airlock/protocol';
import { FrameRouter } from './frame.router';

describe('FrameRouter', () => {
  const attempt = { jobId: randomUUID(), attempt: 3 };
  let routed: Array<[string, unknown]>;
  let router: FrameRouter;

  beforeEach(() => {
    routed = [];
    router = new FrameRouter({
      instruction: (instruction) => routed.push(['instruction', instruction]),
      cancel: (ref) => routed.push(['cancel', ref]),
      resultAck: (ack) => routed.push(['resultAck', ack]),
      drain: () => routed.push(['drain', undefined]),
      leaseRenewal: (renewal) => routed.push(['leaseRenewal', renewal]),
      policyBundle: (bundle) => routed.push(['policyBundle', bundle]),
    });
  });

  it('sends each control frame to the handler for its kind, with its member', () => {
    const instruction = { keyId: 'sk_0123456789abcdef', payload: Buffer.from('p'), signature: Buffer.alloc(64) };
    const ack = { attempt, disposition: ResultDisposition.RESULT_DISPOSITION_DUPLICATE, signature: null };
    const renewal = { heartbeatSeq: 4, renewed: [attempt], signature: null };
    const bundle = { keyId: 'sk_0123456789abcdef', payload: Buffer.from('b'), signature: Buffer.alloc(64) };
    const frames: ControlFrame__Output[] = [
      { frame: 'instruction', instruction },
      { frame: 'cancel', cancel: { attempt, signature: null } },
      { frame: 'resultAck', resultAck: ack },
      { frame: 'drain', drain: { signature: null } },
      { frame: 'leaseRenewal', leaseRenewal: renewal },
      { frame: 'policyBundle', policyBundle: bundle },
    ];
    frames.forEach((frame) => router.route(frame));
    expect(routed).toEqual([
      ['instruction', instruction],
      ['cancel', attempt],
      ['resultAck', ack],
      ['drain', undefined],
      ['leaseRenewal', renewal],
      ['policyBundle', bundle],
    ]);
  });

  it('routes no handshake frame and no empty frame (the session never lets them through after Welcome)', () => {
    router.route({ frame: 'challenge', challenge: { nonce: Buffer.alloc(32) } });
    router.route({ frame: 'welcome', welcome: { heartbeatIntervalMs: 1_000, leaseTtlMs: 10_000, versionNotice: null } });
    router.route({});
    expect(routed).toEqual([]);
  });
});
