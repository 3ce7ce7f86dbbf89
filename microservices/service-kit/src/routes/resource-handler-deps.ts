import type { Clock } from '../base/clock.js';
import type { Pager } from './paging/pager.js';

/** What a service's resource handlers are built from: its store and metrics, and the kit's parts. */
export interface ResourceHandlerDeps<Store, Metrics> {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  generateId: () => string;
  /** Answers list requests within their byte and concurrency bounds. */
  pager: Pager;
}
