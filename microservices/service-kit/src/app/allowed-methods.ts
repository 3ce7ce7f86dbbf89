import { TrieRouter } from 'hono/router/trie-router';
import type { RouterRoute } from 'hono/types';

/** Hono's method for middleware (`app.use`) and `app.all`: not a route a client can call by method. */
const ANY_METHOD = 'ALL';

/**
 * The methods the app's routes answer at a path, derived from the registered routes themselves (never a
 * hand-kept table): what `405 Method Not Allowed` lists in `Allow`. Built on first use, after every router
 * is mounted; the route table does not change afterwards. HEAD is listed wherever GET is (Hono answers it).
 */
export function allowedMethodsFinder(routes: () => readonly RouterRoute[]): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  const build = () => {
    const built = new TrieRouter<string>();
    for (const route of routes()) {
      // Each route goes in under "any method" with its own method as the payload, so one match finds all.
      if (route.method !== ANY_METHOD) built.add(ANY_METHOD, route.path, route.method.toUpperCase());
    }
    return built;
  };
  return (path) => {
    router ??= build();
    const [matches] = router.match('GET', path);
    const methods = new Set(matches.map(([method]) => method as string));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
