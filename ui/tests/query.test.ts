import { describe, expect, it } from "vitest";
import type { PaymentRow } from "../src/ipc";
import { allPages, emptyFilters, pageCount, refreshed, toQuery } from "../src/lib/query";

describe("history filters", () => {
  it("leave blanks out and turn the page into an offset", () => {
    expect(toQuery(emptyFilters(25))).toEqual({ offset: 0, limit: 25 });
    expect(toQuery({ ...emptyFilters(25), page: 2 })).toEqual({ offset: 50, limit: 25 });
  });

  it("trim, lower-case sites, and keep every filter set", () => {
    const query = toQuery({
      ...emptyFilters(10),
      since: "2026-01-01",
      until: "2026-01-31",
      site: "  API.Example.com ",
      status: "settled",
      network: "eip155:84532",
      search: " 0xabc ",
    });
    expect(query).toEqual({
      offset: 0,
      limit: 10,
      since: "2026-01-01",
      until: "2026-01-31",
      site: "api.example.com",
      status: "settled",
      network: "eip155:84532",
      search: "0xabc",
    });
  });

  it("put dates in order and drop malformed ones", () => {
    const swapped = toQuery({ ...emptyFilters(), since: "2026-02-01", until: "2026-01-01" });
    expect([swapped.since, swapped.until]).toEqual(["2026-01-01", "2026-02-01"]);
    expect(toQuery({ ...emptyFilters(), since: "yesterday" }).since).toBeUndefined();
  });

  it("count pages and ask for every page at once", () => {
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(25, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
    expect(allPages({ offset: 50, limit: 25, site: "a" })).toEqual({ offset: 0, limit: 0, site: "a" });
  });
});

describe("the payment shown in detail", () => {
  const row = (id: number, status: string) => ({ payment: { id, status } }) as unknown as PaymentRow;

  it("follows its row as a new page is read, and stays when the page does not hold it", () => {
    const shown = row(7, "settled");
    const later = [row(8, "signed"), row(7, "confirmed")];
    expect(refreshed(shown, later)?.payment.status).toBe("confirmed");
    expect(refreshed(shown, [row(9, "refused")])).toBe(shown);
    expect(refreshed(null, later)).toBeNull();
  });
});
