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
    expect(bars(lines, "key", 2)).toEqual([
      { label: "2026-01-01", short: "01-01", dollars: "0.001", share: 0.25 },
      { label: "2026-01-02", short: "01-02", dollars: "0.004", share: 1 },
    ]);
    const sites = bars([line("a", "1"), line("b", "5"), line("c", "3")], "value", 2);
    expect(sites.map((b) => b.label)).toEqual(["b", "c"]);
  });

  it("show every day of the range, a day without payments at $0, across a month's end", () => {
    const days = bars([line("2026-01-30", "1000"), line("2026-02-02", "2000")], "key", 4);
    expect(days.map((b) => [b.short, b.dollars])).toEqual([
      ["01-30", "0.001"],
      ["01-31", "0.00"],
      ["02-01", "0.00"],
      ["02-02", "0.002"],
    ]);
    const last = bars([line("2025-12-01", "1"), line("2026-01-10", "1")], "key", 3);
    expect(last.map((b) => b.label)).toEqual(["2026-01-08", "2026-01-09", "2026-01-10"]);
    expect(bars([line("2026-01-10", "1")], "key", 14).map((b) => b.short).slice(0, 2)).toEqual(["12-28", "12-29"]);
  });

  it("cut long site names at the end, keeping where they start", () => {
    const [site] = bars([line("api.weather.example.com", "1")], "value", 8);
    expect(site.short).toBe("api.weather…");
    expect(bars([line("a.example", "1")], "value", 8)[0].short).toBe("a.example");
  });

  it("count 18-decimal dollars and skip what is not a dollar", () => {
    const mixed = [line("x", "1000000000000000000", 18), line("x", "7", null, false)];
    expect(bars(mixed, "key", 5)).toEqual([{ label: "x", short: "x", dollars: "1.00", share: 1 }]);
    expect(bars([], "key", 5)).toEqual([]);
  });
});
