import { type ForgeTokenSource, readForgeToken } from '../../config/worker-config.loader';
import { ForgeError } from './forge-client';

/** What a token must look like to travel in a header; anything else would be refused by the HTTP stack, or split the header. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

/**
 * The forge's token for a request's headers, read now (and opened, if sealed) so that a rotated one needs no restart.
 * A token a header cannot carry is ForgeError `auth`, naming the forge, never the token. One
 * that cannot be read (its file gone, its variable empty) throws readForgeToken's error, which
 * ForgeHttp, calling the headers, turns into `auth` naming where the token should be: neither
 * is worth a retry.
 */
export async function headerSafeToken(forge: string, source: ForgeTokenSource): Promise<string> {
  const token = await readForgeToken(source);
  if (!HEADER_SAFE_TOKEN.test(token)) throw new ForgeError('auth', `the ${forge} token has characters an HTTP header cannot carry`);
  return token;
}
