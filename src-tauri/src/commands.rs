//! The commands the windows call: each a one-line call into purse-api (or into an
//! official plugin). Errors cross IPC as `{code, message}`. Which window may call which
//! is in `capabilities/`.

use std::{collections::BTreeMap, path::PathBuf};

use purse_api::accounts::Secret;
use purse_api::{
    Failure, SettingsEdit, Zone, accounts, ca,
    env::Shell,
    history::{self, HistoryPage, HistoryQuery, PaymentRow, SpendView, SummaryView},
    probe::Probe,
    prompts::{self, Choice, PendingBalance, PromptView},
    rules::{self, CapsEdit, RuleEdit, RuleView},
};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_dialog::DialogExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::{AppState, ProxyStatus};

/// An error as the UI gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct IpcError {
    code: String,
    message: String,
}

impl From<Failure> for IpcError {
    fn from(failure: Failure) -> Self {
        Self { code: failure.code().into(), message: failure.to_string() }
    }
}

impl IpcError {
    /// The wallet is not open (the proxy did not start, or is still starting).
    fn no_wallet() -> Self {
        Self::new("proxy", "the wallet is not running (see the proxy's status)")
    }

    fn new(code: &str, message: impl std::fmt::Display) -> Self {
        Self { code: code.into(), message: message.to_string() }
    }
}

type Reply<T> = Result<T, IpcError>;

/// Runs `work` on a thread of its own: a keystore's scrypt holds a core for a second or
/// two, which the async runtime's few threads should not wait for.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Reply<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| IpcError::new("account", e))?
        .map_err(IpcError::from)
}

/// The handler of every command; the ACL of each window narrows it.
pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        proxy_status,
        spend,
        history_page,
        history_payment,
        history_summary,
        export_history_csv,
        open_transaction,
        accounts_list,
        account_create,
        account_import_key,
        account_import_mnemonic,
        account_import_keystore,
        account_export_keystore,
        account_unlock,
        account_lock,
        choose_keystore_file,
        account_set_default,
        balances,
        ca_status,
        ca_install,
        env_text,
        test_request,
        settings_get,
        settings_save,
        autostart_get,
        autostart_set,
        rules_list,
        rule_add,
        rule_update,
        rule_remove,
        rules_export,
        rules_import,
        caps_get,
        caps_set,
        paused_get,
        paused_set,
        pending_payments,
        pending_balance,
        answer_payment,
    ]
}

/// The proxy and where the wallet keeps things.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    proxy: ProxyStatus,
    data_dir: String,
    profile: String,
}

#[tauri::command]
fn proxy_status(state: State<'_, AppState>) -> Status {
    Status {
        proxy: state.status(),
        data_dir: state.place.data_dir.display().to_string(),
        profile: state.place.profile.clone(),
    }
}

#[tauri::command]
async fn spend(state: State<'_, AppState>) -> Reply<SpendView> {
    Ok(history::spend(&state.place, Zone::Local, purse_api::now_ms())?)
}

#[tauri::command]
async fn history_page(state: State<'_, AppState>, query: HistoryQuery) -> Reply<HistoryPage> {
    Ok(history::page(&state.place.store()?, &query)?)
}

#[tauri::command]
async fn history_payment(state: State<'_, AppState>, id: i64) -> Reply<PaymentRow> {
    Ok(history::payment(&state.place.store()?, id)?)
}

#[tauri::command]
async fn history_summary(state: State<'_, AppState>, query: HistoryQuery) -> Reply<SummaryView> {
    Ok(history::summary(&state.place.store()?, &query)?)
}

#[tauri::command]
async fn export_history_csv(state: State<'_, AppState>, query: HistoryQuery) -> Reply<String> {
    Ok(history::export_csv(&state.place, &query, None, purse_api::now_ms())?.display().to_string())
}

#[tauri::command]
async fn open_transaction(app: AppHandle, network: String, tx_hash: String) -> Reply<()> {
    let url = history::explorer_url(&network, &tx_hash)
        .ok_or_else(|| IpcError::new("not-found", "no explorer is known for this network"))?;
    app.opener().open_url(url, None::<&str>).map_err(|e| IpcError::new("opener", e))
}

#[tauri::command]
async fn accounts_list(state: State<'_, AppState>) -> Reply<Vec<accounts::Listed>> {
    Ok(accounts::listed(&state.place, state.wallet().as_ref())?)
}

/// A new account and its words, shown once.
#[derive(Debug, Serialize)]
pub(crate) struct Created {
    address: String,
    mnemonic: String,
}

#[tauri::command]
async fn account_create(state: State<'_, AppState>, label: Option<String>) -> Reply<Created> {
    let made = accounts::Accounts::open(&state.place)?.create(label.as_deref())?;
    Ok(Created { address: made.address, mnemonic: made.mnemonic.expose().to_owned() })
}

#[tauri::command]
async fn account_import_key(
    state: State<'_, AppState>,
    key: String,
    label: Option<String>,
) -> Reply<String> {
    Ok(accounts::Accounts::open(&state.place)?
        .import_key(&Secret::new(key.trim().to_owned()), label.as_deref())?)
}

#[tauri::command]
async fn account_import_mnemonic(
    state: State<'_, AppState>,
    phrase: String,
    index: u32,
    label: Option<String>,
) -> Reply<String> {
    Ok(accounts::Accounts::open(&state.place)?.import_mnemonic(
        &Secret::new(phrase.trim().to_owned()),
        index,
        label.as_deref(),
    )?)
}

#[tauri::command]
async fn account_import_keystore(
    state: State<'_, AppState>,
    path: PathBuf,
    password: String,
    label: Option<String>,
) -> Reply<String> {
    let place = state.place.clone();
    blocking(move || {
        accounts::Accounts::open(&place)?.import_keystore(
            &path,
            &Secret::new(password),
            label.as_deref(),
        )
    })
    .await
}

#[tauri::command]
async fn account_export_keystore(
    state: State<'_, AppState>,
    address: String,
    path: Option<PathBuf>,
    password: String,
    source_password: Option<String>,
) -> Reply<String> {
    let place = state.place.clone();
    blocking(move || {
        let path = path.unwrap_or_else(|| accounts::keystore_export_path(&place, &address));
        accounts::Accounts::open(&place)?.export_keystore(
            &address,
            &path,
            &Secret::new(password),
            source_password.map(Secret::new).as_ref(),
        )?;
        Ok(path.display().to_string())
    })
    .await
}

#[tauri::command]
async fn account_unlock(
    state: State<'_, AppState>,
    address: String,
    password: String,
) -> Reply<()> {
    let wallet = state.wallet().ok_or_else(IpcError::no_wallet)?;
    blocking(move || wallet.unlock(&address, &Secret::new(password))).await
}

#[tauri::command]
async fn account_lock(state: State<'_, AppState>, address: String) -> Reply<()> {
    Ok(state.wallet().ok_or_else(IpcError::no_wallet)?.lock(&address)?)
}

/// A keystore file chosen in the system's file dialog: one to import, or (`export_for`
/// an address) one to write, offered as the name an export gets by default. `None` when
/// the user cancels.
#[tauri::command]
async fn choose_keystore_file(
    state: State<'_, AppState>,
    window: tauri::Window,
    export_for: Option<String>,
) -> Reply<Option<PathBuf>> {
    // The dialog answers on the main thread; this command waits for it without holding
    // one of the async runtime's threads.
    let (answer, chosen) = tokio::sync::oneshot::channel();
    let answered = move |file| {
        let _ = answer.send(file);
    };
    let dialog = window.dialog().file().set_parent(&window).add_filter("JSON keystore", &["json"]);
    let saving = export_for.is_some();
    match export_for {
        None => dialog.set_title("Import a keystore").pick_file(answered),
        Some(address) => {
            let offered = accounts::keystore_export_path(&state.place, &address);
            let dialog = match (offered.parent(), offered.file_name()) {
                (Some(dir), Some(name)) => {
                    dialog.set_directory(dir).set_file_name(name.to_string_lossy())
                }
                _ => dialog,
            };
            dialog.set_title("Export to a keystore").save_file(answered);
        }
    }
    let chosen = chosen.await.ok().flatten().map(|file| file.into_path());
    let chosen = chosen.transpose().map_err(|e| IpcError::new("file", e))?;
    // The save dialog offers to replace a file; an export never does, so say it now.
    if let Some(path) = chosen.as_deref().filter(|_| saving) {
        accounts::ensure_unused(path).map_err(Failure::from)?;
    }
    Ok(chosen)
}

#[tauri::command]
async fn account_set_default(state: State<'_, AppState>, address: String) -> Reply<()> {
    Ok(accounts::Accounts::open(&state.place)?.set_default(&address)?)
}

#[tauri::command]
async fn balances(
    state: State<'_, AppState>,
    address: Option<String>,
) -> Reply<Vec<accounts::Balance>> {
    Ok(accounts::balances(&state.place, address.as_deref()).await?)
}

#[tauri::command]
async fn ca_status(state: State<'_, AppState>) -> Reply<ca::CaStatus> {
    Ok(ca::status(&state.place)?)
}

#[tauri::command]
async fn ca_install(state: State<'_, AppState>) -> Reply<Vec<PathBuf>> {
    Ok(ca::install_nss(&state.place, None)?)
}

#[tauri::command]
async fn env_text(state: State<'_, AppState>, shell: Option<Shell>) -> Reply<String> {
    let shell = shell.unwrap_or(Shell::Bash);
    let listen =
        state.address().map_or_else(|| state.place.config().map(|c| c.proxy.listen), Ok)?;
    Ok(purse_api::env::env_text(&state.place, listen, shell)?)
}

#[tauri::command]
async fn test_request(state: State<'_, AppState>, url: String) -> Reply<Probe> {
    let proxy =
        state.address().ok_or_else(|| IpcError::new("proxy", "the proxy is not running"))?;
    Ok(purse_api::probe::through(&state.place, proxy, &url).await?)
}

/// The Settings view's fields and where they are kept.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SettingsView {
    settings: SettingsEdit,
    path: String,
    /// The networks Purse knows, for the preference list: CAIP-2 id → name.
    networks: BTreeMap<String, String>,
}

fn settings_view(state: &AppState, settings: SettingsEdit) -> SettingsView {
    SettingsView {
        settings,
        path: state.place.path(purse_api::settings::CONFIG_FILE).display().to_string(),
        networks: purse_api::settings::known_networks(),
    }
}

#[tauri::command]
async fn settings_get(state: State<'_, AppState>) -> Reply<SettingsView> {
    Ok(settings_view(&state, SettingsEdit::of(&state.place.config()?)))
}

#[tauri::command]
async fn settings_save(state: State<'_, AppState>, settings: SettingsEdit) -> Reply<SettingsView> {
    let wallet = state.wallet();
    let saved = purse_api::settings::save(&state.place, &settings, wallet.as_ref())?;
    Ok(settings_view(&state, SettingsEdit::of(&saved)))
}

#[tauri::command]
async fn autostart_get(app: AppHandle) -> Reply<bool> {
    app.autolaunch().is_enabled().map_err(|e| IpcError::new("autostart", e))
}

#[tauri::command]
async fn autostart_set(app: AppHandle, enabled: bool) -> Reply<bool> {
    let launcher = app.autolaunch();
    if enabled { launcher.enable() } else { launcher.disable() }
        .and_then(|()| launcher.is_enabled())
        .map_err(|e| IpcError::new("autostart", e))
}

#[tauri::command]
async fn pending_payments(state: State<'_, AppState>) -> Reply<Vec<PromptView>> {
    Ok(state.wallet().map(|wallet| prompts::pending(&wallet)).unwrap_or_default())
}

#[tauri::command]
async fn pending_balance(state: State<'_, AppState>, id: u64) -> Reply<PendingBalance> {
    let wallet = state.wallet().ok_or_else(IpcError::no_wallet)?;
    Ok(prompts::balance(&wallet, &state.place, id).await?)
}

#[tauri::command]
async fn answer_payment(
    state: State<'_, AppState>,
    id: u64,
    answer: Choice,
    waiting: usize,
) -> Reply<()> {
    Ok(prompts::answer(&state.wallet().ok_or_else(IpcError::no_wallet)?, id, &answer, waiting)?)
}

#[tauri::command]
async fn rules_list(state: State<'_, AppState>) -> Reply<Vec<RuleView>> {
    Ok(rules::list(&state.place, Zone::Local, purse_api::now_ms())?)
}

#[tauri::command]
async fn rule_add(state: State<'_, AppState>, rule: RuleEdit) -> Reply<i64> {
    Ok(rules::add(&state.place, &rule)?.id)
}

#[tauri::command]
async fn rule_update(state: State<'_, AppState>, id: i64, rule: RuleEdit) -> Reply<()> {
    rules::update(&state.place, id, &rule)?;
    Ok(())
}

#[tauri::command]
async fn rule_remove(state: State<'_, AppState>, id: i64) -> Reply<()> {
    Ok(rules::remove(&state.place, id)?)
}

#[tauri::command]
async fn rules_export(state: State<'_, AppState>) -> Reply<String> {
    Ok(rules::export_file(&state.place, None, purse_api::now_ms())?.display().to_string())
}

#[tauri::command]
async fn rules_import(state: State<'_, AppState>, text: String) -> Reply<usize> {
    Ok(rules::import_toml(&state.place, &text)?)
}

#[tauri::command]
async fn caps_get(state: State<'_, AppState>) -> Reply<CapsEdit> {
    Ok(rules::caps(&state.place)?)
}

#[tauri::command]
async fn caps_set(state: State<'_, AppState>, caps: CapsEdit) -> Reply<CapsEdit> {
    Ok(rules::set_caps(&state.place, &caps)?)
}

#[tauri::command]
async fn paused_get(state: State<'_, AppState>) -> Reply<bool> {
    Ok(rules::paused(&state.place)?)
}

#[tauri::command]
async fn paused_set(app: AppHandle, state: State<'_, AppState>, paused: bool) -> Reply<bool> {
    Ok(crate::tray::set_paused(&app, &state.place, paused)?)
}
