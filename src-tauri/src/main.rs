// Keep a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // Read while the process has one thread: the offset cannot be read safely later.
    let utc_offset_secs = purse_api::local_utc_offset();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PURSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let startup = match purse_app_lib::Startup::from_env(std::env::args().skip(1), utc_offset_secs)
    {
        Ok(startup) => startup,
        Err(error) => {
            eprintln!("purse-app: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match purse_app_lib::run(startup) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("purse-app: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
