// Bars for the spend charts, from summary lines: US dollar stablecoins only, summed in
// micro-dollars (BigInt), heights as a share of the largest bar.

import type { SummaryLine } from "../ipc";
import { fromMicros } from "./format";

export interface Bar {
  label: string;
  dollars: string;
  /** 0..1 of the tallest bar. */
  share: number;
}

function micros(line: SummaryLine): bigint {
  const { atomic, decimals, usd } = line.total;
  if (!usd || decimals === null || !/^\d+$/.test(atomic)) return 0n;
  const value = BigInt(atomic);
  return decimals >= 6 ? value / 10n ** BigInt(decimals - 6) : value * 10n ** BigInt(6 - decimals);
}

/** One bar per key (day or site), summed over networks and assets. `order`: "key" sorts
 * by key ascending (days), "value" by amount descending (sites); `limit` keeps the first. */
export function bars(lines: SummaryLine[], order: "key" | "value", limit: number): Bar[] {
  const sums = new Map<string, bigint>();
  for (const line of lines) sums.set(line.key, (sums.get(line.key) ?? 0n) + micros(line));
  let entries = [...sums.entries()];
  if (order === "key") {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    entries = entries.slice(-limit);
  } else {
    entries.sort(([, a], [, b]) => (a > b ? -1 : a < b ? 1 : 0));
    entries = entries.slice(0, limit);
  }
  const max = entries.reduce((m, [, v]) => (v > m ? v : m), 0n);
  return entries.map(([label, value]) => ({
    label,
    dollars: fromMicros(value),
    share: max === 0n ? 0 : Number((value * 10_000n) / max) / 10_000,
  }));
}
