fn main() {
    // Every command the front end may call, each with its own permission
    // (`allow-<command>`), granted per window in capabilities/.
    let manifest = tauri_build::AppManifest::new().commands(&[
        // The main window.
        "proxy_status",
        "spend",
        "history_page",
        "history_payment",
        "history_summary",
        "export_history_csv",
        "open_transaction",
        "accounts_list",
        "account_create",
        "account_import_key",
        "account_import_mnemonic",
        "account_import_keystore",
        "account_export_keystore",
        "account_unlock",
        "account_lock",
        "choose_keystore_file",
        "account_set_default",
        "balances",
        "ca_status",
        "ca_install",
        "env_text",
        "test_request",
        "settings_get",
        "settings_save",
        "autostart_get",
        "autostart_set",
        "rules_list",
        "rule_add",
        "rule_update",
        "rule_remove",
        "rules_export",
        "rules_import",
        "caps_get",
        "caps_set",
        "paused_get",
        "paused_set",
        // The approval popup.
        "pending_payments",
        "pending_balance",
        "answer_payment",
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        println!("cargo::error={error:#}");
    }
}
