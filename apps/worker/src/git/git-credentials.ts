import { type GitCredentialsConfig, readForgeToken } from '../config/worker-config.loader';
import { GitCredentialsUnreadableError } from './git-credentials-unreadable.error';

/** What a token must look like to travel in a header: printable ASCII without spaces, like a forge token. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

/**
 * The environment entries that make one git command present `credentials` to `url`, read now
 * (and opened, if sealed) so that a rotated token file needs no restart; none when there are no
 * credentials or `url` is not http(s) (an ssh push URL uses the host's keys).
 *
 * The header travels as git config in the environment (`GIT_CONFIG_COUNT`, git 2.31 or later):
 * never in argv, which any local user reads in /proc/<pid>/cmdline, nor in a file. It is keyed
 * to `url` itself (`http.<url>.extraHeader`), so git sends it to that repository only, and
 * redirects are refused for that URL: with them, git would carry on, header and all, at
 * whatever address the server named. Give it only to the commands that reach `url`.
 */
export async function gitCredentialEnvironment(url: string, credentials: GitCredentialsConfig | undefined): Promise<Record<string, string>> {
  if (credentials === undefined || !/^https?:\/\//i.test(url)) return {};
  let token: string;
  try {
    token = await readForgeToken(credentials.token);
  } catch (error) {
    throw new GitCredentialsUnreadableError((error as Error).message);
  }
  if (!HEADER_SAFE_TOKEN.test(token)) throw new GitCredentialsUnreadableError('the token has characters an HTTP header cannot carry');
  const basic = Buffer.from(`${credentials.username}:${token}`, 'utf8').toString('base64');
  return {
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    GIT_CONFIG_KEY_1: `http.${url}.followRedirects`,
    GIT_CONFIG_VALUE_1: 'false',
  };
}
