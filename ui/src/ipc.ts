// Every command and event of the Tauri shell, typed: the only module that talks to Rust.
// Errors arrive as `{ code, message }` (see src-tauri/src/commands.rs).

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export interface IpcError {
  code: string;
  message: string;
}

/** An error from a command, whatever shape it came in. */
export function asIpcError(error: unknown): IpcError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    return { code: String(error.code), message: String(error.message) };
  }
  return { code: "unknown", message: String(error) };
}

export type ProxyStatus =
  | { state: "starting" }
  | { state: "running"; address: string }
  | { state: "failed"; code: string; message: string };

export interface Status {
  proxy: ProxyStatus;
  dataDir: string;
  profile: string;
}

/** A payment's statuses, in the order a payment goes through them. */
export const PAYMENT_STATUSES = [
  "requested",
  "refused",
  "signed",
  "sent",
  "settled",
  "confirmed",
  "failed",
  "unsure",
] as const;

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A stored payment attempt (purse.db), as the store names its columns. */
export interface Payment {
  id: number;
  created_at: number;
  updated_at: number;
  status: PaymentStatus;
  decided_by: string | null;
  client: string | null;
  method: string;
  url: string;
  host: string;
  x402_version: number | null;
  scheme: string | null;
  network: string | null;
  asset: string | null;
  amount: string | null;
  pay_to: string | null;
  payer: string | null;
  nonce: string | null;
  valid_before: number | null;
  payload_hash: string | null;
  tx_hash: string | null;
  server_status: number | null;
  reason_code: string | null;
  reason: string | null;
}

export interface Amount {
  atomic: string;
  decimals: number | null;
  symbol: string | null;
  text: string;
  usd: boolean;
}

export interface PaymentRow {
  payment: Payment;
  amount: Amount | null;
  networkName: string | null;
  testnet: boolean;
  explorerUrl: string | null;
}

export interface HistoryQuery {
  since?: string;
  until?: string;
  site?: string;
  status?: string;
  network?: string;
  search?: string;
  offset: number;
  limit: number;
}

export interface HistoryPage {
  rows: PaymentRow[];
  total: number;
  offset: number;
  limit: number;
}

export interface SummaryLine {
  key: string;
  attempts: number;
  paid: number;
  network: string | null;
  total: Amount;
}

export interface SummaryView {
  perDay: SummaryLine[];
  perHost: SummaryLine[];
  perNetwork: SummaryLine[];
}

/** Dollars paid over a period, against its global cap (`null`: no cap). */
export interface Spend {
  mainnetUsd: string;
  testnetUsd: string;
  paid: number;
  attempts: number;
  cap: string | null;
  /** What the cap leaves; payments under way count as spent. */
  leftMainnet: string | null;
  /** … on testnets, counted apart. */
  leftTestnet: string | null;
}

export interface SpendView {
  today: string;
  day: Spend;
  month: Spend;
}

export interface Account {
  address: string;
  label: string | null;
  is_default: boolean;
  storage: { kind: "keychain" } | { kind: "keystore"; path: string };
  created_at: number;
  /** Kept in a keystore the running wallet has not unlocked: its payments are refused. */
  locked: boolean;
}

export interface Balance {
  network: string;
  chainId: number;
  testnet: boolean;
  symbol: string;
  balance: string | null;
  error: string | null;
}

export interface CaStatus {
  name: string;
  certPath: string;
  certPem: string;
  trustedIn: string[];
  notTrustedIn: string[];
  certutil: boolean;
  instructions: string;
}

export interface Probe {
  url: string;
  status: number;
  purseReason: string | null;
  elapsedMs: number;
  intercepted: boolean;
}

export interface Settings {
  listen: string;
  passthrough: string[];
  networkPreference: string[];
  rpc: Record<string, string>;
  promptTimeoutSecs: number;
  /** Payments made without asking notify from this many dollars up. */
  notifyAbove: string;
}

/** A rule as the Rules view edits it: dollars as text, empty for no limit. */
export interface RuleEdit {
  site: string;
  pathPrefix: string | null;
  network: string | null;
  asset: string | null;
  payTo: string | null;
  action: "allow" | "ask" | "deny";
  maxPerPayment: string | null;
  daily: string | null;
  weekly: string | null;
  monthly: string | null;
  total: string | null;
}

/** What one of a rule's limited budgets has used (dollars; testnets apart). */
export interface BudgetUse {
  window: string;
  limit: string;
  mainnet: string;
  testnet: string;
}

export interface RuleView {
  id: number;
  rule: RuleEdit;
  budgets: BudgetUse[];
  /** The network's and asset's names, when the rule names ones Purse knows. */
  networkName: string | null;
  assetSymbol: string | null;
}

/** The global caps, dollars (`null`: no cap). */
export interface Caps {
  daily: string | null;
  monthly: string | null;
}

export interface SettingsView {
  settings: Settings;
  path: string;
  networks: Record<string, string>;
}

export type Shell = "bash" | "zsh" | "fish" | "powershell";

/** A payment waiting for the user's answer (the popup's input; purse-api's `PromptView`).
 * Dollars are decimal text without `$`. */
export interface ApprovalRequest {
  id: number;
  site: string;
  url: string;
  method: string;
  amount: string /* atomic */;
  usd: string | null;
  asset: string;
  symbol: string | null;
  network: string;
  networkName: string;
  testnet: boolean;
  payTo: string;
  payToStatus: "known" | "new" | "changed";
  account: string;
  expiresAtMs: number;
  /** How many requests wait on this one answer. */
  waiting: number;
  /** Why Purse asks. */
  reason: string;
  budgets: { label: string; left: string }[];
  /** What "always for this site" offers, from `[policy]` (raised to the price). */
  suggestedMax: string;
  suggestedDaily: string;
  /** Whether an allow rule pays on this network without asking ("always" would still ask
   * on a mainnet until mainnet auto-approve is on). */
  alwaysPays: boolean;
}

/** The user's answer to an approval request. */
export type Answer =
  | { kind: "once" }
  | { kind: "always"; maxPerPayment: string; dailyBudget: string }
  | { kind: "deny" }
  | { kind: "block" };

// The main window's commands.
export const proxyStatus = () => invoke<Status>("proxy_status");
export const spend = () => invoke<SpendView>("spend");
export const historyPage = (query: HistoryQuery) => invoke<HistoryPage>("history_page", { query });
/** One payment, whatever page holds it (the detail view). */
export const historyPayment = (id: number) => invoke<PaymentRow>("history_payment", { id });
export const historySummary = (query: HistoryQuery) =>
  invoke<SummaryView>("history_summary", { query });
export const exportHistoryCsv = (query: HistoryQuery) =>
  invoke<string>("export_history_csv", { query });
export const openTransaction = (network: string, txHash: string) =>
  invoke<void>("open_transaction", { network, txHash });
export const accountsList = () => invoke<Account[]>("accounts_list");
export const accountCreate = (label: string | null) =>
  invoke<{ address: string; mnemonic: string }>("account_create", { label });
export const accountImportKey = (key: string, label: string | null) =>
  invoke<string>("account_import_key", { key, label });
export const accountImportMnemonic = (phrase: string, index: number, label: string | null) =>
  invoke<string>("account_import_mnemonic", { phrase, index, label });
/** Imports the key of an encrypted JSON keystore (v3) at `path` into the keychain. */
export const accountImportKeystore = (path: string, password: string, label: string | null) =>
  invoke<string>("account_import_keystore", { path, password, label });
/** A keystore file chosen in the system's dialog: one to import, or (an address) one to
 * export that account to; `null` when cancelled. */
export const chooseKeystoreFile = (exportFor: string | null) =>
  invoke<string | null>("choose_keystore_file", { exportFor });
/** Writes the account's key, encrypted, to `path` (`null`: `purse-ADDRESS.json`, or
 * `-2`, `-3`… when taken, in the downloads folder); returns the file written. */
export const accountExportKeystore = (
  address: string,
  path: string | null,
  password: string,
  sourcePassword: string | null,
) => invoke<string>("account_export_keystore", { address, path, password, sourcePassword });
/** Opens a keystore account's key with its password, for payments until the app quits
 * (or `accountLock`). */
export const accountUnlock = (address: string, password: string) =>
  invoke<void>("account_unlock", { address, password });
export const accountLock = (address: string) => invoke<void>("account_lock", { address });
export const accountSetDefault = (address: string) =>
  invoke<void>("account_set_default", { address });
export const balances = (address: string | null) => invoke<Balance[]>("balances", { address });
export const caStatus = () => invoke<CaStatus>("ca_status");
export const caInstall = () => invoke<string[]>("ca_install");
export const envText = (shell: Shell) => invoke<string>("env_text", { shell });
export const testRequest = (url: string) => invoke<Probe>("test_request", { url });
export const settingsGet = () => invoke<SettingsView>("settings_get");
export const settingsSave = (settings: Settings) =>
  invoke<SettingsView>("settings_save", { settings });
export const autostartGet = () => invoke<boolean>("autostart_get");
export const autostartSet = (enabled: boolean) => invoke<boolean>("autostart_set", { enabled });

export const rulesList = () => invoke<RuleView[]>("rules_list");
export const ruleAdd = (rule: RuleEdit) => invoke<number>("rule_add", { rule });
export const ruleUpdate = (id: number, rule: RuleEdit) => invoke<void>("rule_update", { id, rule });
export const ruleRemove = (id: number) => invoke<void>("rule_remove", { id });
/** Saves every rule as a TOML file (as `purse rules export` writes it); returns its path. */
export const rulesExport = () => invoke<string>("rules_export");
/** Adds the rules of a TOML file's text; returns how many were added. */
export const rulesImport = (text: string) => invoke<number>("rules_import", { text });
export const capsGet = () => invoke<Caps>("caps_get");
export const capsSet = (caps: Caps) => invoke<Caps>("caps_set", { caps });
export const pausedGet = () => invoke<boolean>("paused_get");
export const pausedSet = (paused: boolean) => invoke<boolean>("paused_set", { paused });

// The popup's commands.
export const pendingPayments = () => invoke<ApprovalRequest[]>("pending_payments");
/** What the paying account holds of the asset a pending payment asks for. */
export interface PendingBalance {
  atomic: string;
  text: string;
}
export const pendingBalance = (id: number) => invoke<PendingBalance>("pending_balance", { id });
/** Answers pending payment `id`, shown with `waiting` requests on it: an approval pays
 * for that many, and the payment asks again if more joined since. */
export const answerPayment = (id: number, answer: Answer, waiting: number) =>
  invoke<void>("answer_payment", { id, answer, waiting });

// Events.
export const onPaymentsChanged = (handler: (rows: PaymentRow[]) => void): Promise<UnlistenFn> =>
  listen<PaymentRow[]>("payments-changed", (event) => handler(event.payload));
export const onProxyStatus = (handler: (status: ProxyStatus) => void): Promise<UnlistenFn> =>
  listen<ProxyStatus>("proxy-status", (event) => handler(event.payload));
export const onPendingChanged = (handler: () => void): Promise<UnlistenFn> =>
  listen("pending-changed", () => handler());
export const onPausedChanged = (handler: (paused: boolean) => void): Promise<UnlistenFn> =>
  listen<boolean>("paused-changed", (event) => handler(event.payload));
