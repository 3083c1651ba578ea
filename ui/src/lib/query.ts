// The History view's filters, and the query they make.

import type { HistoryQuery, PaymentRow } from "../ipc";

export interface Filters {
  since: string;
  until: string;
  site: string;
  status: string;
  network: string;
  search: string;
  page: number;
  pageSize: number;
}

export const emptyFilters = (pageSize = 25): Filters => ({
  since: "",
  until: "",
  site: "",
  status: "",
  network: "",
  search: "",
  page: 0,
  pageSize,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The query the filters make: blanks left out, dates in order, the page as an offset. */
export function toQuery(filters: Filters): HistoryQuery {
  const query: HistoryQuery = {
    offset: Math.max(0, filters.page) * filters.pageSize,
    limit: filters.pageSize,
  };
  let since = filters.since.trim();
  let until = filters.until.trim();
  if (!DATE.test(since)) since = "";
  if (!DATE.test(until)) until = "";
  if (since && until && since > until) [since, until] = [until, since];
  if (since) query.since = since;
  if (until) query.until = until;
  const site = filters.site.trim().toLowerCase();
  if (site) query.site = site;
  if (filters.status) query.status = filters.status;
  if (filters.network) query.network = filters.network;
  const search = filters.search.trim();
  if (search) query.search = search;
  return query;
}

/** The same query over every page (for totals, charts and CSV). */
export function allPages(query: HistoryQuery): HistoryQuery {
  return { ...query, offset: 0, limit: 0 };
}

/** How many pages `total` rows make. */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** The payment shown in detail as `rows` (a page just read) has it now: its status and
 * transaction move on while it is open. `shown` itself when the page does not hold it. */
export function refreshed(shown: PaymentRow | null, rows: PaymentRow[]): PaymentRow | null {
  if (!shown) return null;
  return rows.find((row) => row.payment.id === shown.payment.id) ?? shown;
}
