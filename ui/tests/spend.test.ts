import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import type { Spend } from "../src/ipc";
import SpendCard from "../src/lib/SpendCard.svelte";

const spend = (change: Partial<Spend> = {}): Spend => ({
  mainnetUsd: "1.25",
  testnetUsd: "0.30",
  paid: 3,
  attempts: 4,
  cap: "5.00",
  leftMainnet: "3.75",
  leftTestnet: "4.70",
  ...change,
});

let component: ReturnType<typeof mount> | null = null;
afterEach(() => {
  if (component) unmount(component);
  component = null;
  document.body.innerHTML = "";
});

const show = (s: Spend | null) => {
  component = mount(SpendCard, { target: document.body, props: { id: "spend-today", title: "Today", spend: s } });
  flushSync();
  return document.body.querySelector<HTMLElement>("#spend-today")!;
};

describe("the Dashboard's spend cards", () => {
  it("show the spend against the global cap, testnets apart", () => {
    const card = show(spend());
    expect(card.querySelector(".big")?.textContent).toBe("$1.25");
    expect(card.querySelector('[data-testid="cap"]')?.textContent).toBe("$3.75 left of the $5.00 cap");
    expect(card.querySelector<HTMLElement>(".meter span")?.style.width).toBe("25%");
    expect(card.querySelector("p.muted:last-child")?.textContent?.trim()).toBe("3 paid of 4 · testnets $0.30 ($4.70 left)");
  });

  it("say when there is no cap, and mark a spent cap", () => {
    let card = show(spend({ cap: null, leftMainnet: null, leftTestnet: null }));
    expect(card.querySelector('[data-testid="cap"]')?.textContent).toBe("No cap");
    expect(card.querySelector(".meter")).toBeNull();
    expect(card.textContent).not.toContain("left)");
    unmount(component!);
    card = show(spend({ leftMainnet: "0.00" }));
    expect(card.querySelector(".meter")?.classList.contains("full")).toBe(true);
  });

  it("wait quietly for the figures", () => {
    const card = show(null);
    expect(card.querySelector(".big")?.textContent).toBe("—");
    expect(card.querySelector('[data-testid="cap"]')).toBeNull();
  });
});
