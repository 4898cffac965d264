#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrlogin_fuzz::run("dialect_generate", data));
