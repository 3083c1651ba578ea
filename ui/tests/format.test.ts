import { describe, expect, it } from "vitest";
import {
  capUsed,
  decidedBy,
  formatUnits,
  isShort,
  formatUsd,
  fromMicros,
  shortAddress,
  statusTone,
  toMicros,
} from "../src/lib/format";

describe("amounts", () => {
  it("shows atomic units in the token's decimals, exactly", () => {
    expect(formatUnits("1000", 6)).toBe("0.001");
    expect(formatUnits("10000", 6)).toBe("0.01");
    expect(formatUnits("5000000000", 6)).toBe("5000.00");
    expect(formatUnits("1234567", 6)).toBe("1.234567");
    expect(formatUnits("0", 6)).toBe("0.00");
    expect(formatUnits("123", 0)).toBe("123");
    // Past what a float holds: uint256 amounts stay exact.
    expect(formatUnits("115792089237316195423570985008687907853269984665640564039457584007913129639935", 18)).toBe(
      "115792089237316195423570985008687907853269984665640564039457.584007913129639935",
    );
    expect(formatUnits("not a number", 6)).toBe("not a number");
  });

  it("shows dollars with two decimals at least and thousands separated", () => {
    expect(formatUsd("0.5")).toBe("$0.50");
    expect(formatUsd("0.001")).toBe("$0.001");
    expect(formatUsd("1234.50")).toBe("$1,234.50");
    expect(formatUsd("$3")).toBe("$3.00");
    expect(formatUsd("lots")).toBe("lots");
  });

  it("turns dollars into micro-dollars and back without floats", () => {
    expect(toMicros("0.001")).toBe(1000n);
    expect(toMicros("$1.25")).toBe(1_250_000n);
    expect(toMicros("0.1234567")).toBe(123_456n);
    expect(toMicros("x")).toBeNull();
    expect(fromMicros(1_500n)).toBe("0.0015");
    expect(fromMicros(2_000_000n)).toBe("2.00");
  });

  it("shortens addresses and reads statuses", () => {
    expect(shortAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).toBe("0x7099…79C8");
    expect(shortAddress(null)).toBe("");
    expect(statusTone("confirmed")).toBe("paid");
    expect(statusTone("refused")).toBe("refused");
    expect(statusTone("signed")).toBe("open");
  });

  it("measures a cap's use from what it leaves", () => {
    expect(capUsed("5.00", "3.75")).toBe(0.25);
    expect(capUsed("5.00", "5.00")).toBe(0);
    expect(capUsed("5.00", "0.00")).toBe(1);
    expect(capUsed("0.00", "0.00")).toBe(1);
    expect(capUsed("3", "0.000001")).toBe(0.999);
  });

  it("tells a balance too small for a payment, in atomic units", () => {
    expect(isShort("999", "1000")).toBe(true);
    expect(isShort("1000", "1000")).toBe(false);
    expect(isShort("340282366920938463463374607431768211456", "1")).toBe(false);
    expect(isShort("?", "1")).toBe(false);
  });

  it("says who decided a payment in words", () => {
    expect(decidedBy("user")).toBe("you, when asked");
    expect(decidedBy("timeout")).toBe("no one: the prompt timed out");
    expect(decidedBy("policy")).toBe("your policy");
    expect(decidedBy("rule 12")).toBe("rule 12");
    expect(decidedBy(null)).toBe("—");
    expect(decidedBy("something new")).toBe("something new");
  });
});
