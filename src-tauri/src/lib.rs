//! The desktop shell: wires qrlogin-core and the embedded qrlogin-server to a Tauri window.
//! No protocol logic lives here; the UI in ../ui only renders what the core reports.

pub mod after_login;
pub mod attempts;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod embedded;
pub mod error;
pub mod kiosk;
pub mod live_config;
pub mod logging;
pub mod login;
pub mod paint_log;
pub mod persist;
pub mod remembered_at_start;
pub mod revocation_queue;
pub mod settings;
pub mod sign_out_cli;
pub mod signed_in;
pub mod startup;
pub mod state;
pub mod web_process;
pub mod web_process_budget;
pub mod webview_memory;
pub mod window_state;

use clap::Parser;
use state::AppState;
use tauri::{Manager, Runtime};

/// The app, written once and generic over the runtime so that tests build it on the mock runtime.
pub fn build_app<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let kiosk = state.config.kiosk.enabled;
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        // "Copy link" writes through this (the window may only write text, never read it).
        .plugin(tauri_plugin_clipboard_manager::init())
        // `after_login = "redirect"` opens the callback through this; the window is granted none
        // of its commands.
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::restore_session,
            commands::start_login,
            commands::cancel_login,
            commands::sign_out,
            commands::demo_credentials,
            commands::set_lan,
            commands::set_lang,
            commands::ui_painted,
        ])
        .setup(move |app| {
            startup::mark("setup");
            if let Some(window) = app.get_webview_window("main") {
                webview_memory::apply(&window);
                web_process::watch(&window);
                if kiosk {
                    kiosk::apply(&window);
                }
            }
            // Is a session remembered? Asked at the start of `run`, beside everything else (the
            // keyring may have to be started over D-Bus); nothing but the page's first question
            // waits for it, and a first attempt started meanwhile is withdrawn if it says yes.
            remembered_at_start::spawn_read(app.handle());
            // The server (or the client for a configured one) gets ready while the webview
            // loads, not after the page asks for it; the page's first command waits on the same
            // lock. Spawned, never blocked on: setup runs on the UI thread.
            // Then the first attempt starts, unless a session is known to be remembered: its QR
            // is made while the page loads and waits for the page's first question (attempts.rs).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                match backend::ensure(&handle, &state).await {
                    Ok(()) => attempts::prestart(&handle).await,
                    // The page's first command tries again and shows the error.
                    Err(e) => {
                        tracing::warn!(error = %e, "the backend could not start ahead of the page")
                    }
                }
            });
            Ok(())
        })
        .on_page_load(|_webview, payload| {
            if matches!(payload.event(), tauri::webview::PageLoadEvent::Finished) {
                startup::mark("page-loaded");
            }
        })
        .on_window_event(move |window, event| {
            // A kiosk must not be closed from its own window (Alt+F4, a stray click).
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if kiosk {
                    api.prevent_close();
                    let _ = window.set_focus();
                }
            }
        })
}

pub fn run() {
    startup::mark("main");
    let cli = cli::Cli::parse();
    // Config problems are reported before any window opens, with the key and the line.
    let settings = match settings::resolve(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qrlogin: {e}");
            std::process::exit(2);
        }
    };
    let _log_guard = logging::init(&settings.log_dir);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        kiosk = settings.config.kiosk.enabled,
        "starting"
    );

    if cli.sign_out {
        // No window: the session is signed out from the token store and the server directly.
        std::process::exit(sign_out_cli::run(
            &settings.config,
            &settings::app_data_dir(),
            settings::IDENTIFIER,
            settings.lang,
        ));
    }

    let started_with = settings.config.clone();
    let state = AppState::new(settings.config, settings.tips, settings.lang);
    // Before the window: GTK's start and the webview's creation take a while, and neither the
    // token store's answer nor the backend needs them (remembered_at_start.rs, backend.rs).
    let data_dir = settings::app_data_dir();
    remembered_at_start::start_early(&state, &data_dir, settings::IDENTIFIER);
    backend::start_early(&state, data_dir);
    // Registered first, as the plugin asks: a second start hands over to the first and exits.
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }));
    let kiosk = state.config.kiosk.enabled;
    // The window comes back where the person left it; a kiosk is full screen and must not
    // remember a stray resize. Rust-only: the page is granted none of the plugin's commands.
    let builder = if kiosk {
        builder
    } else {
        builder.plugin(window_state::plugin())
    };
    let app = build_app(builder, state)
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("qrlogin: could not start the window: {e}");
            std::process::exit(1);
        });
    exit_on_signals(app.handle().clone());
    live_config::watch(app.handle().clone(), settings.sources, started_with);
    app.run(move |handle, event| match event {
        // The config's window exists from here on (Tauri creates it when the loop is ready).
        tauri::RunEvent::Ready if !kiosk => window_state::save_when_settled(handle),
        tauri::RunEvent::ExitRequested {
            api, code: None, ..
        } if kiosk => {
            api.prevent_exit();
        }
        tauri::RunEvent::Exit => {
            // Stop the embedded server so that held long-polls are answered and SQLite is closed.
            let state = handle.state::<AppState>();
            signed_in::shutdown(handle);
            tauri::async_runtime::block_on(backend::shutdown(&state));
        }
        _ => {}
    });
}

/// A session logout, `systemctl --user stop` or Ctrl+C in a terminal sends SIGTERM / SIGINT. Leave
/// through Tauri's own exit path, so that the window-state plugin saves the size and position
/// (it writes only on exit) and the embedded server answers its long-polls and closes SQLite,
/// instead of the process dying mid-write.
#[cfg(unix)]
fn exit_on_signals<R: Runtime>(handle: tauri::AppHandle<R>) {
    use tokio::signal::unix::{signal, SignalKind};
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot watch SIGTERM/SIGINT; they will end the app abruptly");
            return;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "exiting");
        handle.exit(0);
    });
}

#[cfg(not(unix))]
fn exit_on_signals<R: Runtime>(_handle: tauri::AppHandle<R>) {}
