/**
 * Whether a request URL carries an access token anywhere (query or path, percent-encoded or not): it would
 * be written to every proxy's log and this service's access line.
 */
export function mentionsAccessToken(url: string): boolean {
  let text = url;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      text = text.replaceAll('%5F', '_').replaceAll('%5f', '_');
    }
  }
  return /access_token/i.test(text);
}
