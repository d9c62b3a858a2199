import { basename, dirname, extname, join } from 'node:path';
import type { AuditFileSystem } from './audit-file-system';

/** A closed segment of the log: its number (oldest lowest) and path. */
export interface AuditSegment {
  readonly number: number;
  readonly path: string;
}

const SEGMENT_DIGITS = 6;

/**
 * The names of the files that make up one egress audit log, all beside the active file:
 * `egress-audit.jsonl` (active), `egress-audit.000001.jsonl`, `…000002.jsonl` (closed
 * segments, oldest lowest) and `egress-audit.torn-seq<N>-<ms>.part` (an unterminated tail an
 * interrupted append left behind, moved aside at open; N is the seq it would have had).
 */
export class EgressAuditFiles {
  readonly directory: string;
  private readonly stem: string;
  private readonly extension: string;
  private readonly segmentName: RegExp;
  private readonly quarantineName: RegExp;

  constructor(readonly activePath: string) {
    this.directory = dirname(activePath);
    this.extension = extname(activePath);
    this.stem = basename(activePath, this.extension);
    const stem = escapeRegExp(this.stem);
    this.segmentName = new RegExp(`^${stem}\\.(\\d{${SEGMENT_DIGITS},})${escapeRegExp(this.extension)}$`);
    this.quarantineName = new RegExp(`^${stem}\\.torn-seq\\d+-\\d+(?:-\\d+)?\\.part$`);
  }

  /** The path of segment `number`. */
  segmentPath(number: number): string {
    return join(this.directory, `${this.stem}.${String(number).padStart(SEGMENT_DIGITS, '0')}${this.extension}`);
  }

  /** Closed segments, oldest first. */
  listSegments(fileSystem: AuditFileSystem): AuditSegment[] {
    const segments: AuditSegment[] = [];
    for (const name of fileSystem.readdirSync(this.directory)) {
      const match = this.segmentName.exec(name);
      if (match) segments.push({ number: Number(match[1]), path: join(this.directory, name) });
    }
    return segments.sort((a, b) => a.number - b.number);
  }

  /** Where an unterminated tail goes; `attempt` > 0 only if the first choice already exists. */
  quarantinePath(wouldBeSeq: number, nowMs: number, attempt = 0): string {
    return join(this.directory, `${this.stem}.torn-seq${wouldBeSeq}-${nowMs}${attempt > 0 ? `-${attempt}` : ''}.part`);
  }

  /** Tails moved aside so far, by name. */
  listQuarantined(fileSystem: AuditFileSystem): string[] {
    return fileSystem
      .readdirSync(this.directory)
      .filter((name) => this.quarantineName.test(name))
      .sort()
      .map((name) => join(this.directory, name));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
