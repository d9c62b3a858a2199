// Host names a listed entry may be: a DNS name, or an IP address (IPv6 with or without brackets).
const BARE_HOST = /^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV4_MAPPED_IPV6 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
const PRIVATE_DNS_NAME = /^(?:[a-z0-9_-]+\.)+(?:internal|local)$/;

/**
 * Whether an inference endpoint stays inside the customer's network, judged from the URL
 * alone: only http and https, to loopback (127.0.0.0/8, ::1, `localhost`), a private
 * address (10/8, 172.16/12, 192.168/16, IPv6 ULA fc00::/7, and those as IPv4-mapped IPv6),
 * a `*.internal` or `*.local` host name, or a host listed in `extraAllowedHosts` (bare
 * host names or addresses, compared case-insensitively).
 *
 * Nothing is resolved: a public name is refused even if it resolves to a private address,
 * unless it is listed. Link-local ranges (169.254/16, fe80::/10) are refused on purpose:
 * they hold cloud metadata services, not inference servers.
 */
export function isLocalInferenceUrl(url: string, extraAllowedHosts: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  // The WHATWG parser has already canonicalised the host: lower case, IPv4 in dotted
  // decimal (so 0x7f.1 and 2130706433 read as 127.0.0.1), IPv6 compressed in brackets.
  const host = withoutTrailingDot(parsed.hostname);
  if (host === '') return false;
  if (extraAllowedHosts.some((entry) => canonicalHost(entry) === host)) return true;
  if (host === 'localhost') return true;
  const ipv4 = IPV4.exec(host);
  if (ipv4) return isLocalIpv4(ipv4.slice(1).map(Number));
  if (host.startsWith('[')) return isLocalIpv6(host.slice(1, -1));
  return PRIVATE_DNS_NAME.test(host);
}

function isLocalIpv4([a, b]: number[]): boolean {
  return a === 127 || a === 10 || (a === 172 && b !== undefined && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function isLocalIpv6(address: string): boolean {
  if (address === '::1') return true;
  const mapped = IPV4_MAPPED_IPV6.exec(address);
  if (mapped) {
    const high = parseInt(mapped[1] ?? '', 16);
    return isLocalIpv4([high >> 8, high & 0xff]);
  }
  // A canonical address starting with "::" has a zero first group, so it is not ULA.
  if (address.startsWith('::')) return false;
  const firstGroup = parseInt(address.split(':')[0] ?? '', 16);
  return (firstGroup & 0xfe00) === 0xfc00;
}

function canonicalHost(entry: string): string | undefined {
  const trimmed = entry.trim();
  if (!BARE_HOST.test(trimmed)) return undefined;
  const bracketed = trimmed.includes(':') && !trimmed.startsWith('[') ? `[${trimmed}]` : trimmed;
  try {
    return withoutTrailingDot(new URL(`http://${bracketed}/`).hostname);
  } catch {
    return undefined;
  }
}

function withoutTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
