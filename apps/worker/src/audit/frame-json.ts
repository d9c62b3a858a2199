/**
 * Renders a frame as JSON with every byte field as lower-case hex. The audit log stores
 * this rendering, so a customer can read exactly what left the host.
 */
export function frameToJson(frame: unknown): string {
  return JSON.stringify(frame, (_key, value: unknown) => {
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      return Buffer.from((value as { data: number[] }).data).toString('hex');
    }
    if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
    return value;
  });
}
