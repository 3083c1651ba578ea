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
