// Formatting money, times and addresses. Money stays in integers (BigInt over atomic
// units); only the text shown has a decimal point.

/** `atomic` units of a `decimals`-decimal token as text: `1000`, 6 → `0.001`. At least
 * `minFraction` decimals are kept; trailing zeros beyond them are dropped. */
export function formatUnits(atomic: string, decimals: number, minFraction = 2): string {
  if (!/^\d+$/.test(atomic)) return atomic;
  const value = BigInt(atomic);
  if (decimals === 0) return value.toString();
  const scale = 10n ** BigInt(decimals);
  const whole = value / scale;
  let fraction = (value % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  if (fraction.length < minFraction) fraction = fraction.padEnd(Math.min(minFraction, decimals), "0");
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/** Dollars as text (`0.5` → `$0.50`, `1234.5` → `$1,234.50`). */
export function formatUsd(dollars: string): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(dollars.trim().replace(/^\$/, ""));
  if (!match) return dollars;
  const whole = match[1].replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = (match[2] ?? "").replace(/0+$/, "").padEnd(2, "0");
  return `$${whole}.${fraction}`;
}

/** Dollars (decimal text) as micro-dollars, exactly. */
export function toMicros(dollars: string): bigint | null {
  const match = /^\$?(\d+)(?:\.(\d{0,6})\d*)?$/.exec(dollars.trim());
  if (!match) return null;
  return BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? "").padEnd(6, "0"));
}

/** Micro-dollars as decimal dollars (`1500` → `0.0015`, at least two decimals). */
export function fromMicros(micros: bigint): string {
  return formatUnits(micros.toString(), 6, 2);
}

/** How much of a cap is used, from 0 to 1, given what it leaves (dollars as text). */
export function capUsed(cap: string, left: string): number {
  const [whole, rest] = [toMicros(cap), toMicros(left)];
  if (whole === null || rest === null || whole === 0n) return 1;
  const used = whole > rest ? whole - rest : 0n;
  return Number((used * 1000n) / whole) / 1000;
}

/** Whether a balance (atomic units) is less than the amount asked (atomic units). */
export function isShort(balance: string, amount: string): boolean {
  try {
    return BigInt(balance) < BigInt(amount);
  } catch {
    return false;
  }
}

/** `0x1234…abcd`. */
export function shortAddress(address: string | null | undefined): string {
  if (!address) return "";
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Unix milliseconds as the local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${localDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A date's local `YYYY-MM-DD`. */
export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** How a status reads at a glance. */
export function statusTone(status: string): "paid" | "refused" | "open" {
  if (status === "settled" || status === "confirmed") return "paid";
  if (status === "refused" || status === "failed") return "refused";
  return "open";
}

/** Who decided a payment, as its history row says it (`user`, `timeout`, `policy`,
 * `rule 3`), in words. */
export function decidedBy(text: string | null): string {
  if (text === null) return "—";
  if (text === "user") return "you, when asked";
  if (text === "timeout") return "no one: the prompt timed out";
  if (text === "policy") return "your policy";
  return text;
}
