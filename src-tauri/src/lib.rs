//! The Purse desktop shell. For now it opens the main window, titled "Purse", from the
//! built `ui/`; the wallet's commands, tray and approval popup arrive with their issues.

/// Builds and runs the app until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    app(tauri::Builder::default()).run(tauri::generate_context!())
}

/// The app's wiring, generic over the runtime so that tests can build it with Tauri's
/// mock runtime.
pub fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
}
