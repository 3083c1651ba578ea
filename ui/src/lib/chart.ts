// Bars for the spend charts, from summary lines: US dollar stablecoins only, summed in
// micro-dollars (BigInt), heights as a share of the largest bar.

import type { SummaryLine } from "../ipc";
import { fromMicros } from "./format";

export interface Bar {
  label: string;
  /** What fits under the bar: `MM-DD` for a day, a site cut to 12 characters. */
  short: string;
  dollars: string;
  /** 0..1 of the tallest bar. */
  share: number;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD`, `days` later (or earlier). */
function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function shortLabel(label: string, order: "key" | "value"): string {
  if (order === "key" && /^\d{4}-\d{2}-\d{2}$/.test(label)) return label.slice(5);
  return label.length > 12 ? `${label.slice(0, 11)}…` : label;
}

function micros(line: SummaryLine): bigint {
  const { atomic, decimals, usd } = line.total;
  if (!usd || decimals === null || !/^\d+$/.test(atomic)) return 0n;
  const value = BigInt(atomic);
  return decimals >= 6 ? value / 10n ** BigInt(decimals - 6) : value * 10n ** BigInt(6 - decimals);
}

/** One bar per key (day or site), summed over networks and assets. `order`: "key" is
 * days, the `limit` days up to the last one with a payment, every day a bar (none paid:
 * $0), so the axis is a calendar; "value" is sites by amount, the first `limit`. */
export function bars(lines: SummaryLine[], order: "key" | "value", limit: number): Bar[] {
  const sums = new Map<string, bigint>();
  for (const line of lines) sums.set(line.key, (sums.get(line.key) ?? 0n) + micros(line));
  let entries = [...sums.entries()];
  if (order === "key") {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const last = entries.at(-1)?.[0];
    if (last && /^\d{4}-\d{2}-\d{2}$/.test(last)) {
      const days: [string, bigint][] = [];
      for (let day = addDays(last, 1 - limit); day <= last && days.length < limit; day = addDays(day, 1)) {
        days.push([day, sums.get(day) ?? 0n]);
      }
      entries = days;
    } else {
      entries = entries.slice(-limit);
    }
  } else {
    entries.sort(([, a], [, b]) => (a > b ? -1 : a < b ? 1 : 0));
    entries = entries.slice(0, limit);
  }
  const max = entries.reduce((m, [, v]) => (v > m ? v : m), 0n);
  return entries.map(([label, value]) => ({
    label,
    short: shortLabel(label, order),
    dollars: fromMicros(value),
    share: max === 0n ? 0 : Number((value * 10_000n) / max) / 10_000,
  }));
}
