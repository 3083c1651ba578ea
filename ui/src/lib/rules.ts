// The Rules view's logic: an empty form, what a rule matches and allows in words, how
// much of each budget it used today, and what an import or export came to.

import type { BudgetUse, IpcError, RuleEdit } from "../ipc";
import { formatUsd, shortAddress } from "./format";

/** A new rule's form: allow one site, $0.10 a payment, $1.00 a day. */
export function blankRule(): RuleEdit {
  return {
    site: "",
    pathPrefix: null,
    network: null,
    asset: null,
    payTo: null,
    action: "allow",
    maxPerPayment: "0.10",
    daily: "1.00",
    weekly: null,
    monthly: null,
    total: null,
  };
}

/** What a rule matches, in a line: `api.example.com/v1/ · Base · USDC · to 0x1234…`, with
 * the network's and asset's names when Purse knows them (the full id is in the title). */
export function matchText(rule: RuleEdit, names: Names = {}): string {
  const parts = [rule.site + (rule.pathPrefix ?? "")];
  if (rule.network) parts.push(names.networkName ?? rule.network);
  if (rule.asset) parts.push(names.assetSymbol ?? `asset ${shortAddress(rule.asset)}`);
  if (rule.payTo) parts.push(`to ${shortAddress(rule.payTo)}`);
  return parts.join(" · ");
}

/** A rule's network and asset as people name them (from `RuleView`). */
export interface Names {
  networkName?: string | null;
  assetSymbol?: string | null;
}

/** Everything a rule matches, ids in full: the table cell's title. */
export function matchTitle(rule: RuleEdit): string {
  return [rule.site + (rule.pathPrefix ?? ""), rule.network, rule.asset, rule.payTo && `to ${rule.payTo}`]
    .filter(Boolean)
    .join("\n");
}

/** An allow rule's limits in words: `≤ $0.10 each · $1.00 a day`. */
export function limitsText(rule: RuleEdit): string {
  if (rule.action !== "allow") return "";
  const parts: string[] = [];
  if (rule.maxPerPayment) parts.push(`≤ ${formatUsd(rule.maxPerPayment)} each`);
  if (rule.daily) parts.push(`${formatUsd(rule.daily)} a day`);
  if (rule.weekly) parts.push(`${formatUsd(rule.weekly)} a week`);
  if (rule.monthly) parts.push(`${formatUsd(rule.monthly)} a month`);
  if (rule.total) parts.push(`${formatUsd(rule.total)} in all`);
  return parts.length ? parts.join(" · ") : "no limit";
}

/** A budget's use: `today $0.002 of $1.00` (testnet spending shown apart when any). */
export function useText(use: BudgetUse): string {
  const zero = (d: string) => /^0*\.?0*$/.test(d);
  const spent = [];
  if (!zero(use.mainnet) || zero(use.testnet)) spent.push(formatUsd(use.mainnet));
  if (!zero(use.testnet)) spent.push(`${formatUsd(use.testnet)} testnet`);
  return `${use.window} ${spent.join(" + ")} of ${formatUsd(use.limit)}`;
}

/** An empty field as `null` (no limit / any), trimmed text otherwise. */
export function clean(v: string | null): string | null {
  return v === null || v.trim() === "" ? null : v.trim();
}

/** A rule's empty fields as `null`, the rest trimmed; only an "allow" rule keeps limits
 * (the form hides them for the others, so none is kept unseen). */
export function cleanRule(rule: RuleEdit): RuleEdit {
  const limited = rule.action === "allow";
  const limit = (v: string | null) => (limited ? clean(v) : null);
  return {
    site: rule.site.trim(),
    pathPrefix: clean(rule.pathPrefix),
    network: clean(rule.network),
    asset: clean(rule.asset),
    payTo: clean(rule.payTo),
    action: rule.action,
    maxPerPayment: limit(rule.maxPerPayment),
    daily: limit(rule.daily),
    weekly: limit(rule.weekly),
    monthly: limit(rule.monthly),
    total: limit(rule.total),
  };
}

/** What importing a rules file came to: `Added 2 rules from rules.toml`, or why not. */
export function importText(file: string, outcome: { added: number } | IpcError): string {
  if ("message" in outcome) return `${file} was not imported: ${outcome.message}`;
  if (outcome.added === 0) return `${file} has no rules: nothing was added`;
  return `Added ${outcome.added} ${outcome.added === 1 ? "rule" : "rules"} from ${file}`;
}
