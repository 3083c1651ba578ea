import { describe, expect, it } from "vitest";
import { blankRule, cleanRule, importText, limitsText, matchText, matchTitle, useText } from "../src/lib/rules";

describe("the rules view's words", () => {
  it("says what a rule matches and allows", () => {
    const rule = { ...blankRule(), site: "api.example.com", pathPrefix: "/v1/", network: "eip155:8453" };
    expect(matchText(rule)).toBe("api.example.com/v1/ · eip155:8453");
    const pinned = { ...rule, asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" };
    expect(matchText(pinned)).toBe("api.example.com/v1/ · eip155:8453 · asset 0x8335…2913");
    expect(matchText(pinned, { networkName: "Base", assetSymbol: "USDC" })).toBe("api.example.com/v1/ · Base · USDC");
    expect(matchTitle(pinned)).toBe("api.example.com/v1/\neip155:8453\n0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
    expect(limitsText(rule)).toBe("≤ $0.10 each · $1.00 a day");
    expect(limitsText({ ...rule, action: "deny" })).toBe("");
    expect(limitsText({ ...rule, maxPerPayment: null, daily: null })).toBe("no limit");
  });

  it("shows budget use, testnets apart", () => {
    expect(useText({ window: "today", limit: "1.00", mainnet: "0.00", testnet: "0.002" })).toBe(
      "today $0.002 testnet of $1.00",
    );
    expect(useText({ window: "this week", limit: "5.00", mainnet: "0.50", testnet: "0.00" })).toBe(
      "this week $0.50 of $5.00",
    );
    expect(useText({ window: "today", limit: "1.00", mainnet: "0.00", testnet: "0.00" })).toBe("today $0.00 of $1.00");
  });

  it("turns empty fields into no limit", () => {
    const clean = cleanRule({ ...blankRule(), site: " a.com ", daily: " ", pathPrefix: "" });
    expect(clean.site).toBe("a.com");
    expect(clean.daily).toBeNull();
    expect(clean.pathPrefix).toBeNull();
    expect(clean.maxPerPayment).toBe("0.10");
  });

  it("keeps limits only on an allow rule, where the form shows them", () => {
    const denied = cleanRule({ ...blankRule(), site: "a.com", action: "deny", daily: "5" });
    expect([denied.maxPerPayment, denied.daily]).toEqual([null, null]);
    expect(cleanRule({ ...blankRule(), site: "a.com", action: "allow", daily: "5" }).daily).toBe("5");
  });
});

describe("importing rules", () => {
  it("says how many rules a file added, or why it added none", () => {
    expect(importText("rules.toml", { added: 3 })).toBe("Added 3 rules from rules.toml");
    expect(importText("one.toml", { added: 1 })).toBe("Added 1 rule from one.toml");
    expect(importText("empty.toml", { added: 0 })).toBe("empty.toml has no rules: nothing was added");
    expect(importText("bad.toml", { code: "invalid", message: '"atlantis" is not a network Purse knows' })).toBe(
      'bad.toml was not imported: "atlantis" is not a network Purse knows',
    );
  });
});
