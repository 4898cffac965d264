//! The desktop shell: wires qrlogin-core to a Tauri window. No protocol logic lives here.
pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running qrlogin");
}
