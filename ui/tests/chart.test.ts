import { describe, expect, it } from "vitest";
import type { SummaryLine } from "../src/ipc";
import { bars } from "../src/lib/chart";

const line = (key: string, atomic: string, decimals: number | null = 6, usd = true): SummaryLine => ({
  key,
  attempts: 1,
  paid: 1,
  network: "eip155:84532",
  total: { atomic, decimals, symbol: "USDC", text: "", usd },
});

describe("spend charts", () => {
  it("sum per key in dollars, days in order, sites by amount", () => {
    const lines = [line("2026-01-02", "3000"), line("2026-01-01", "1000"), line("2026-01-02", "1000")];
    expect(bars(lines, "key", 10)).toEqual([
      { label: "2026-01-01", dollars: "0.001", share: 0.25 },
      { label: "2026-01-02", dollars: "0.004", share: 1 },
    ]);
    const sites = bars([line("a", "1"), line("b", "5"), line("c", "3")], "value", 2);
    expect(sites.map((b) => b.label)).toEqual(["b", "c"]);
  });

  it("count 18-decimal dollars and skip what is not a dollar", () => {
    const mixed = [line("x", "1000000000000000000", 18), line("x", "7", null, false)];
    expect(bars(mixed, "key", 5)).toEqual([{ label: "x", dollars: "1.00", share: 1 }]);
    expect(bars([], "key", 5)).toEqual([]);
  });
});
