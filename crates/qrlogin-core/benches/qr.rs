//! Row 5 of BENCHMARKS.md: QR rendering against the bare `qrcode` encode of the same text.
//!
//!     cargo bench -p qrlogin-core --bench qr
//!
//! `qr::render_svg` is the SVG path alone (what row 5's goal is about); `qr::render` builds the
//! SVG and the 512 px PNG together, as the app does. scripts/bench.sh reads
//! target/criterion/<group>/<bench>/new/estimates.json.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use qrcode::{EcLevel, QrCode};
use qrlogin_core::qr::{self, QrOptions};

/// What our server's QR holds: its public URL and a 24-character scan id.
const TEXT: &str = "http://192.168.10.24:47113/s/Vb3kQ9xYtR2mN7pLw4Hc8sZa";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("qr");
    // Short runs: make bench stays a few minutes. QRLOGIN_BENCH_QUICK=1 shortens them further.
    let quick = std::env::var("QRLOGIN_BENCH_QUICK").is_ok_and(|v| v == "1");
    g.measurement_time(Duration::from_millis(if quick { 300 } else { 2000 }));
    g.warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }));
    g.sample_size(if quick { 10 } else { 50 });

    g.bench_function("bare_encode", |b| {
        b.iter(|| {
            QrCode::with_error_correction_level(black_box(TEXT).as_bytes(), EcLevel::M).unwrap()
        })
    });
    g.bench_function("bare_encode_svg", |b| {
        b.iter(|| {
            QrCode::with_error_correction_level(black_box(TEXT).as_bytes(), EcLevel::M)
                .unwrap()
                .render::<qrcode::render::svg::Color>()
                .build()
        })
    });
    let opts = QrOptions::default();
    g.bench_function("render_svg", |b| {
        b.iter(|| qr::render_svg(black_box(TEXT), &opts).unwrap())
    });
    let png512 = QrOptions::default();
    assert_eq!(png512.png_size, 512);
    g.bench_function("render_svg_and_png512", |b| {
        b.iter(|| qr::render(black_box(TEXT), &png512).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
