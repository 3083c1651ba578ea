import { describe, expect, it } from "vitest";
import { ARM_DELAY_MS, approveArmed, formatCountdown, remainingMs } from "../src/lib/countdown";

describe("the popup's clock", () => {
  it("counts down to the expiry, never below zero", () => {
    expect(remainingMs(10_000, 4_000)).toBe(6_000);
    expect(remainingMs(10_000, 12_000)).toBe(0);
    expect(formatCountdown(61_000)).toBe("1:01");
    expect(formatCountdown(59_001)).toBe("1:00");
    expect(formatCountdown(500)).toBe("0:01");
    expect(formatCountdown(0)).toBe("0:00");
  });

  it("arms the approve buttons only after the delay, and never once expired", () => {
    expect(ARM_DELAY_MS).toBe(800);
    expect(approveArmed(1_000, 1_799, 60_000)).toBe(false);
    expect(approveArmed(1_000, 1_800, 60_000)).toBe(true);
    expect(approveArmed(1_000, 61_000, 60_000)).toBe(false);
  });
});
