//! `make test` replays every fuzz target over its seeds (`fuzz/seeds/<target>/`) and over the
//! inputs that once broke it (`fuzz/regressions/<target>/`), with the plain test build: a bug
//! that a fuzzer found and we fixed stays fixed.

use std::path::Path;

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_target_passes_its_seeds_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    let mut failed = Vec::new();
    for target in qrlogin_fuzz::TARGETS {
        assert!(
            root.join("fuzz_targets")
                .join(format!("{target}.rs"))
                .exists(),
            "{target} has no fuzz_targets file"
        );
        let seeds = inputs(&root.join("seeds").join(target));
        assert!(!seeds.is_empty(), "{target} has no seed corpus");
        for file in seeds
            .iter()
            .chain(inputs(&root.join("regressions").join(target)).iter())
        {
            let data = std::fs::read(file).expect("read an input");
            let r = std::panic::catch_unwind(|| qrlogin_fuzz::run(target, &data));
            if r.is_err() {
                failed.push(file.display().to_string());
            }
            ran += 1;
        }
    }
    assert!(failed.is_empty(), "inputs that fail: {failed:#?}");
    eprintln!("replayed {ran} inputs");
}
