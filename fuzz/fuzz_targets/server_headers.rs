#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrlogin_fuzz::run("server_headers", data));
