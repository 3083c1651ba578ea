import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import type { Answer, ApprovalRequest } from "../src/ipc";

const pending: ApprovalRequest[] = [];
const answered: [number, Answer][] = [];
// How many requests each answer was given for.
const counts: number[] = [];
vi.mock("../src/ipc", async (original) => ({
  ...(await original<typeof import("../src/ipc")>()),
  pendingPayments: vi.fn(async () => [...pending]),
  pendingBalance: vi.fn(async (id: number) => {
    const held = balances[id];
    if (held === undefined) throw { code: "chain", message: "no endpoint answered" };
    return held;
  }),
  answerPayment: vi.fn(async (id: number, answer: Answer, waiting: number) => {
    if (refuseNext) {
      const refusal = refuseNext;
      refuseNext = null;
      throw refusal;
    }
    answered.push([id, answer]);
    counts.push(waiting);
    pending.splice(pending.findIndex((p) => p.id === id), 1);
  }),
  onPendingChanged: vi.fn(async (handler: () => void) => {
    queueChanged = handler;
    return () => {};
  }),
}));
let queueChanged: (() => void) | null = null;
let refuseNext: { code: string; message: string } | null = null;
const balances: Record<number, { atomic: string; text: string }> = {
  1: { atomic: "99997000", text: "99.997000 USDC" },
  2: { atomic: "999", text: "0.000999 USDC" },
};

const { default: Approval } = await import("../src/popup/Approval.svelte");
const { default: Popup } = await import("../src/popup/Popup.svelte");

const request = (id: number, change: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  id,
  site: "api.example.com",
  url: "https://api.example.com/weather",
  method: "GET",
  amount: "1000",
  usd: "0.001",
  asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
  symbol: "USDC",
  network: "eip155:84532",
  networkName: "Base Sepolia",
  testnet: true,
  payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  payToStatus: "known",
  account: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  expiresAtMs: Date.now() + 60_000,
  waiting: 1,
  reason: "no rule allows api.example.com",
  budgets: [{ label: "Today", left: "0.99" }],
  suggestedMax: "0.10",
  suggestedDaily: "1.00",
  alwaysPays: true,
  ...change,
});

const q = (sel: string) => document.body.querySelector<HTMLElement>(`[data-testid="${sel}"]`);
const button = (sel: string) => q(sel) as HTMLButtonElement;

describe("the approval view", () => {
  let component: ReturnType<typeof mount> | null = null;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_767_225_600_000);
    document.body.innerHTML = "";
    answered.length = 0;
    counts.length = 0;
    refuseNext = null;
  });
  afterEach(() => {
    if (component) unmount(component);
    component = null;
    vi.useRealTimers();
  });

  it("shows the price both ways, flags a new payee, and arms approve after 800 ms", () => {
    const answers: Answer[] = [];
    component = mount(Approval, {
      target: document.body,
      props: { request: request(1, { payToStatus: "new" }), onanswer: (a: Answer) => answers.push(a) },
    });
    flushSync();
    expect(q("usd")?.textContent).toBe("$0.001");
    expect(q("atomic")?.textContent).toContain("1000 atomic USDC");
    expect(q("payto-flag")?.textContent).toContain("new payee");
    expect(q("countdown")?.textContent).toBe("1:00");
    expect(button("approve").disabled).toBe(true);
    expect(button("always").disabled).toBe(true);
    expect(button("deny").disabled).toBe(false);

    vi.advanceTimersByTime(700);
    flushSync();
    expect(button("approve").disabled).toBe(true);
    vi.advanceTimersByTime(200);
    flushSync();
    expect(button("approve").disabled).toBe(false);
    expect(q("countdown")?.textContent).toBe("1:00");
    vi.advanceTimersByTime(10_000);
    flushSync();
    expect(q("countdown")?.textContent).toBe("0:50");

    button("approve").click();
    expect(answers).toEqual([{ kind: "once" }]);
  });

  it("offers 'always for this site' with the wallet's limits filled in, deny at once, and block once armed", () => {
    const answers: Answer[] = [];
    component = mount(Approval, {
      target: document.body,
      props: {
        request: request(2, { usd: "0.25", suggestedMax: "0.25", suggestedDaily: "5.00" }),
        onanswer: (a: Answer) => answers.push(a),
      },
    });
    flushSync();
    button("deny").click();
    // Block stores a rule: it waits for the arming delay like approve.
    expect(button("block").disabled).toBe(true);
    vi.advanceTimersByTime(900);
    flushSync();
    button("block").click();
    button("always").click();
    flushSync();
    expect((q("max") as HTMLInputElement).value).toBe("0.25");
    expect((q("daily") as HTMLInputElement).value).toBe("5.00");
    button("always-confirm").click();
    expect(answers).toEqual([
      { kind: "deny" },
      { kind: "block" },
      { kind: "always", maxPerPayment: "0.25", dailyBudget: "5.00" },
    ]);
  });

  it("takes 'always' with the offer as it stands, and says how many requests wait", () => {
    const answers: Answer[] = [];
    component = mount(Approval, {
      target: document.body,
      props: {
        request: request(3, { suggestedMax: "0.10", suggestedDaily: "1.00", waiting: 3 }),
        onanswer: (a: Answer) => answers.push(a),
      },
    });
    flushSync();
    expect(q("waiting")?.textContent).toContain("3 requests wait on this answer: approving pays 3 times");
    expect(button("approve").textContent).toBe("Approve 3 payments");
    vi.advanceTimersByTime(900);
    flushSync();
    button("always").click();
    flushSync();
    button("always-confirm").click();
    expect(answers).toEqual([{ kind: "always", maxPerPayment: "0.10", dailyBudget: "1.00" }]);
    expect(q("still-asked")).toBeNull();
    expect(q("always-scope")?.textContent).toContain("A rule for api.example.com in USDC on Base Sepolia");
  });

  it("says 'always' keeps asking on a mainnet until mainnet auto-approve is on", () => {
    component = mount(Approval, {
      target: document.body,
      props: { request: request(5, { testnet: false, alwaysPays: false }), onanswer: () => {} },
    });
    flushSync();
    vi.advanceTimersByTime(900);
    flushSync();
    button("always").click();
    flushSync();
    expect(q("still-asked")?.textContent).toContain("[policy] mainnets = true");
  });

  it("says 'always' keeps asking for an asset that is not a known dollar", () => {
    component = mount(Approval, {
      target: document.body,
      props: { request: request(6, { usd: null, alwaysPays: false }), onanswer: () => {} },
    });
    flushSync();
    vi.advanceTimersByTime(900);
    flushSync();
    button("always").click();
    flushSync();
    expect(q("still-asked")?.textContent).toContain("only USD stablecoins");
  });

  it("arms approve again after the delay whenever the popup comes back on screen", () => {
    component = mount(Approval, { target: document.body, props: { request: request(4), onanswer: () => {} } });
    flushSync();
    vi.advanceTimersByTime(900);
    flushSync();
    expect(button("approve").disabled).toBe(false);
    const shownAs = (state: "visible" | "hidden") => {
      Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
      flushSync();
    };
    shownAs("hidden");
    vi.advanceTimersByTime(5_000);
    shownAs("visible");
    expect(button("approve").disabled).toBe(true);
    vi.advanceTimersByTime(900);
    flushSync();
    expect(button("approve").disabled).toBe(false);
  });

  it("shows what the paying account holds, and flags too little", async () => {
    component = mount(Approval, { target: document.body, props: { request: request(1), onanswer: () => {} } });
    await vi.waitFor(() => expect(q("balance")?.textContent).toContain("holds 99.997000 USDC"));
    expect(q("short")).toBeNull();
    unmount(component);
    component = mount(Approval, { target: document.body, props: { request: request(2), onanswer: () => {} } });
    await vi.waitFor(() => expect(q("short")?.textContent).toBe("not enough to pay"));
    unmount(component);
    component = mount(Approval, { target: document.body, props: { request: request(9), onanswer: () => {} } });
    await vi.waitFor(() => expect(q("balance")?.textContent).toContain("balance unavailable"));
  });

  it("disarms approve when the request expires", () => {
    component = mount(Approval, {
      target: document.body,
      props: { request: request(3, { expiresAtMs: Date.now() + 2_000 }), onanswer: () => {} },
    });
    flushSync();
    vi.advanceTimersByTime(1_000);
    flushSync();
    expect(button("approve").disabled).toBe(false);
    vi.advanceTimersByTime(1_500);
    flushSync();
    expect(button("approve").disabled).toBe(true);
    expect(q("countdown")?.textContent).toBe("0:00");
  });

  it("keeps the shown request's typed limits when another payment asks, and arms its buttons again", async () => {
    pending.splice(0, pending.length, request(20));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("approve")).not.toBeNull());
    vi.advanceTimersByTime(900);
    flushSync();
    button("always").click();
    flushSync();
    const max = q("max") as HTMLInputElement;
    max.value = "0.50";
    max.dispatchEvent(new Event("input"));
    pending.push(request(21));
    queueChanged?.();
    await vi.waitFor(() => expect(q("queue")?.textContent).toContain("1 of 2 waiting"));
    // The queue's row moved the buttons: a click meant for another place must not approve.
    expect(button("approve").disabled).toBe(true);
    vi.advanceTimersByTime(900);
    flushSync();
    expect(button("approve").disabled).toBe(false);
    expect((q("max") as HTMLInputElement).value).toBe("0.50");
  });

  it("arms approve again when more requests join the payment, and answers for the count shown", async () => {
    pending.splice(0, pending.length, request(60));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("approve")).not.toBeNull());
    vi.advanceTimersByTime(900);
    flushSync();
    expect(button("approve").disabled).toBe(false);
    pending.splice(0, 1, request(60, { waiting: 2 }));
    queueChanged?.();
    await vi.waitFor(() => expect(button("approve").textContent).toBe("Approve 2 payments"));
    expect(button("approve").disabled).toBe(true);
    vi.advanceTimersByTime(900);
    flushSync();
    button("approve").click();
    await vi.waitFor(() => expect(q("empty")).not.toBeNull());
    expect(answered).toEqual([[60, { kind: "once" }]]);
    expect(counts).toEqual([2]);
  });

  it("keeps showing the payment being read when one before it goes", async () => {
    pending.splice(0, pending.length, request(70), request(71, { site: "b.example" }), request(72, { site: "c.example" }));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("queue")?.textContent).toContain("1 of 3 waiting"));
    (document.body.querySelectorAll("nav.queue button")[1] as HTMLButtonElement).click();
    flushSync();
    expect(document.body.querySelector(".site")?.textContent).toBe("b.example");
    pending.splice(0, 1);
    queueChanged?.();
    await vi.waitFor(() => expect(q("queue")?.textContent).toContain("1 of 2 waiting"));
    expect(document.body.querySelector(".site")?.textContent).toBe("b.example");
  });

  it("says so when an answer came after its payment expired", async () => {
    pending.splice(0, pending.length, request(80));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("approve")).not.toBeNull());
    vi.advanceTimersByTime(900);
    flushSync();
    pending.splice(0, 1);
    refuseNext = { code: "not-found", message: "no payment 80 is waiting for an answer" };
    button("approve").click();
    await vi.waitFor(() => expect(q("empty")).not.toBeNull());
    expect(q("answer-error")?.textContent).toContain("Nothing was paid for it");
  });

  it("keeps a refused answer's reason on screen, with its payment", async () => {
    pending.splice(0, pending.length, request(30));
    refuseNext = { code: "invalid", message: "maximum per payment: \"lots\" is not a dollar amount" };
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("deny")).not.toBeNull());
    button("deny").click();
    await vi.waitFor(() => expect(q("answer-error")?.textContent).toContain("not a dollar amount"));
    expect(q("deny")).not.toBeNull();
    queueChanged?.();
    await vi.advanceTimersByTimeAsync(10);
    expect(q("answer-error")?.textContent).toContain("not a dollar amount");
    button("deny").click();
    await vi.waitFor(() => expect(q("empty")).not.toBeNull());
    expect(q("answer-error")).toBeNull();
  });

  it("queues several requests and answers the one shown", async () => {
    pending.splice(0, pending.length, request(10), request(11, { site: "b.example" }), request(12));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(q("queue")?.textContent).toContain("1 of 3 waiting"));
    button("deny").click();
    await vi.waitFor(() => expect(q("queue")?.textContent).toContain("1 of 2 waiting"));
    expect(answered).toEqual([[10, { kind: "deny" }]]);
    expect(document.body.querySelector(".site")?.textContent).toBe("b.example");
  });

  it("denies every waiting payment at once, and only those", async () => {
    pending.splice(0, pending.length, request(40), request(41), request(42));
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(button("deny-all").textContent).toBe("Deny all 3"));
    button("deny-all").click();
    await vi.waitFor(() => expect(q("empty")).not.toBeNull());
    expect(answered).toEqual([40, 41, 42].map((id) => [id, { kind: "deny" }]));
  });

  it("says why one of them could not be denied, and denies the rest", async () => {
    pending.splice(0, pending.length, request(50), request(51));
    refuseNext = { code: "ipc", message: "the wallet is not running" };
    component = mount(Popup, { target: document.body });
    await vi.waitFor(() => expect(button("deny-all").textContent).toBe("Deny all 2"));
    button("deny-all").click();
    await vi.waitFor(() => expect(q("answer-error")?.textContent).toBe("the wallet is not running"));
    expect(answered).toEqual([[51, { kind: "deny" }]]);
  });
});
