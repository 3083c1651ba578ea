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

/// Draws the windows without OpenGL and without sharing GPU buffers, unless the
/// environment already says otherwise (each variable on its own).
///
/// A wallet's forms and tables need neither, and under Mesa each process that opens
/// OpenGL or EGL gets its own copy of Mesa's 100 MB LLVM (`benches/app.sh`):
/// - `GDK_GL=disable`: GTK opens OpenGL with the display, and WebKit composites with it.
///   Without it the tray idles in 64 MiB instead of 95 (PSS), and a page's web process
///   takes 105 MiB instead of 180.
/// - `WEBKIT_DISABLE_DMABUF_RENDERER=1` and `WEBKIT_WEB_RENDER_DEVICE_FILE=/dev/null`:
///   with its first page, WebKit opens EGL in the app itself, to share GPU buffers with
///   the web process and to find the GPU for it, and keeps it open for good: 56 MiB RSS
///   (44 of them LLVM) that stayed after the last window closed. Given no GPU buffers
///   to share, the web process draws on a surfaceless EGL display of its own, which needs
///   no device, and hands its frames over in shared memory; the device named here is
///   only what WebKit would otherwise open EGL in the app to look for.
fn draw_without_gl() {
    #[cfg(target_os = "linux")]
    for (name, value) in [
        ("GDK_GL", "disable"),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: the process has one thread yet, so nothing reads the environment meanwhile.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(name, value);
            }
        }
    }
}
