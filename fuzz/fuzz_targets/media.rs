#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrlogin_fuzz::run("media", data));
