// A cached proxied page answered from memory, for the fast path of anonymous Simple reads
// (src/http/fast-simple.ts), on the same freshness signal as a hosted page: one read of what the
// answer depends on (src/db/connect.ts, `proxyState`) — synchronous on SQLite, and made again
// only when something was committed since, by any process (src/db/wal-index.ts); one query on
// PostgreSQL. The read covers the stored page's identity, the run-time exclude list and the
// reserved namespaces, so an exclude added by any process (the CLI, the API, the web), a page
// refreshed by another process, or a namespace reserved apply at the next request; the caller
// has already found that pier hosts no project of that name (read the same way). Anything else —
// a page past its freshness lifetime, a name that may not come from the upstream, a page not
// rendered in this process yet — is left to the Simple route, which answers with every rule.
import type { ProxyStateRow } from '../db/connect.js';
import type { RenderedPage } from '../simple/service.js';
import { isServableAsStored } from './rules.js';
import { storedPageStamp, type ProxyService } from './service.js';

export interface FastProxiedAnswer {
  bodies: RenderedPage;
  /** The X-Pier-Upstream value: only answers that did not ask the upstream are fast. */
  state: 'hit' | 'offline';
}

export class FastProxiedPages {
  /**
   * What was judged of a row read: a row is the same object for as long as nothing is committed
   * (on SQLite, src/db/wal-index.ts), so most requests judge nothing. A new row, from a commit
   * or from PostgreSQL, is judged again.
   */
  private readonly judged = new WeakMap<
    ProxyStateRow,
    { name: string; allowed: boolean; stamp: string }
  >();

  constructor(
    private readonly proxy: ProxyService,
    private readonly offline: boolean,
  ) {}

  /** The answer for a name pier does not host, or undefined to leave it to the Simple route. */
  answer(
    normalized: string,
  ): FastProxiedAnswer | undefined | Promise<FastProxiedAnswer | undefined> {
    const state = this.proxy.hot.proxyState(normalized);
    return state instanceof Promise
      ? state.then((st) => this.decide(normalized, st))
      : this.decide(normalized, state);
  }

  private decide(name: string, st: ProxyStateRow): FastProxiedAnswer | undefined {
    if (st.found !== 1 || st.checked_at === null) return undefined;
    const now = Date.now();
    if (!isServableAsStored(true, st.checked_at, now, this.offline)) return undefined;
    let judged = this.judged.get(st);
    if (!judged || judged.name !== name) {
      judged = {
        name,
        allowed: this.proxy.mayFetch(name, st),
        stamp: storedPageStamp(st.checked_at, st.etag, st.bytes ?? 0),
      };
      this.judged.set(st, judged);
    }
    if (!judged.allowed) return undefined;
    const bodies = this.proxy.pages.current(name, judged.stamp, now);
    if (!bodies) return undefined;
    this.proxy.stats.pageHits++;
    return { bodies, state: this.offline ? 'offline' : 'hit' };
  }
}
