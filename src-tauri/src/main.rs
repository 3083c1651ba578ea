// Keep a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    draw_without_gl();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PURSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let startup = match purse_app_lib::Startup::from_env(std::env::args().skip(1)) {
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

/// Draws the windows without OpenGL, unless `GDK_GL` says otherwise.
///
/// GTK opens OpenGL when it opens the display, and WebKit composites each page with it:
/// under Mesa that is a private copy of its 100 MB LLVM in the app and in each web process,
/// and GPU buffers besides. A wallet's forms and tables need none of it. Without it the
/// app idles in the tray in 64 MiB instead of 95, and a page's web process takes 105 MiB
/// instead of 180 (PSS, `benches/app.sh`).
fn draw_without_gl() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        // SAFETY: the process has one thread yet, so nothing reads the environment meanwhile.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("GDK_GL", "disable");
        }
    }
}
