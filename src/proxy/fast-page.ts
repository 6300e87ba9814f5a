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
import type { HotReads, ProxyStateRow } from '../db/connect.js';
import type { RenderedPage } from '../simple/service.js';
import { isServableAsStored } from './rules.js';
import { storedPageStamp, type ProxyService } from './service.js';

export interface FastProxiedAnswer {
  bodies: RenderedPage;
  /** The X-Pier-Upstream value: only answers that did not ask the upstream are fast. */
  state: 'hit' | 'offline';
}

const split = (list: string) => (list === '' ? [] : list.split(' '));

export class FastProxiedPages {
  /** The guard's answer per name, while the exclude list and namespaces read are the same. */
  private readonly allowed = new Map<string, { policy: string; allowed: boolean }>();

  constructor(
    private readonly proxy: ProxyService,
    private readonly hot: HotReads,
    private readonly offline: boolean,
  ) {}

  /** The answer for a name pier does not host, or undefined to leave it to the Simple route. */
  answer(
    normalized: string,
  ): FastProxiedAnswer | undefined | Promise<FastProxiedAnswer | undefined> {
    const state = this.hot.proxyState(normalized);
    return state instanceof Promise
      ? state.then((st) => this.decide(normalized, st))
      : this.decide(normalized, state);
  }

  private decide(name: string, st: ProxyStateRow): FastProxiedAnswer | undefined {
    if (st.found !== 1 || st.checked_at === null) return undefined;
    const now = Date.now();
    if (!isServableAsStored(true, st.checked_at, now, this.offline)) return undefined;
    if (!this.mayFetch(name, st)) return undefined;
    const stamp = storedPageStamp(st.checked_at, st.etag, st.bytes ?? 0);
    const bodies = this.proxy.pages.current(name, stamp, now);
    if (!bodies) return undefined;
    this.proxy.stats.pageHits++;
    return { bodies, state: this.offline ? 'offline' : 'hit' };
  }

  private mayFetch(name: string, st: ProxyStateRow): boolean {
    const policy = `${st.excludes}\n${st.reserved}`;
    const memo = this.allowed.get(name);
    if (memo && memo.policy === policy) return memo.allowed;
    const allowed = this.proxy.mayFetchGiven(name, split(st.excludes), split(st.reserved));
    if (this.allowed.size >= 10_000) this.allowed.clear();
    this.allowed.set(name, { policy, allowed });
    return allowed;
  }
}
