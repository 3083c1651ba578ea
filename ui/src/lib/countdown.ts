// Time in the approval popup: the countdown to a request's expiry, and the short delay
// before the approve buttons work (against click-jacking).

/** How long approve buttons stay disabled after a request is shown. */
export const ARM_DELAY_MS = 800;

/** Milliseconds left before `expiresAtMs` (never negative). */
export function remainingMs(expiresAtMs: number, nowMs: number): number {
  return Math.max(0, expiresAtMs - nowMs);
}

/** `m:ss` of what is left, rounded up to the second. */
export function formatCountdown(ms: number): string {
  const seconds = Math.ceil(Math.max(0, ms) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Whether the approve buttons may work: shown long enough, and not expired. */
export function approveArmed(
  shownAtMs: number,
  nowMs: number,
  expiresAtMs: number,
  delayMs = ARM_DELAY_MS,
): boolean {
  return nowMs - shownAtMs >= delayMs && remainingMs(expiresAtMs, nowMs) > 0;
}

/** Sensible defaults for "always for this site": a maximum of the price rounded up to a
 * cent (at least $0.01), and a daily budget of 20 such payments (at least $1.00). */
export function suggestedLimits(usd: string | null): { maxPerPayment: string; dailyBudget: string } {
  const match = usd === null ? null : /^\$?(\d+)(?:\.(\d+))?$/.exec(usd.trim());
  if (!match) return { maxPerPayment: "0.10", dailyBudget: "1.00" };
  const micros = BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? "").slice(0, 6).padEnd(6, "0"));
  const cents = (micros + 9_999n) / 10_000n || 1n;
  const daily = cents * 20n > 100n ? cents * 20n : 100n;
  const dollars = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, "0")}`;
  return { maxPerPayment: dollars(cents), dailyBudget: dollars(daily) };
}
