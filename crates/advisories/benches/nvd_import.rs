//! NVD import throughput: streams the derived CISA-ADP pages (NVD API 2.0
//! shape, not NVD-authored) through `read_nvd` and prints records/s.
//!
//! `cargo bench -p mamori-advisories --bench nvd_import`. The data lives
//! outside the repository (`../shared/data/vuln/` next to the workspace,
//! or `MAMORI_VULN_DATA`); without it the bench says so and exits.

use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use mamori_advisories::nvd::read_nvd;

fn main() {
    let root = std::env::var_os("MAMORI_VULN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vuln")
        });
    let dir = root.join("nvd/derived-from-cisa-adp");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
            .collect(),
        Err(e) => {
            println!("nvd_import: skipped, {} not readable ({e})", dir.display());
            return;
        }
    };
    files.sort();
    if files.is_empty() {
        println!("nvd_import: skipped, no *.json.gz in {}", dir.display());
        return;
    }

    for path in files {
        let name = path.display().to_string();
        // Best of three, so a cold page cache does not decide the figure.
        let mut best = f64::MAX;
        let (mut records, mut rejected, mut matches) = (0usize, 0usize, 0usize);
        let mut first_rejection = None;
        for _ in 0..3 {
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(e) => {
                    println!("nvd_import: cannot open {name}: {e}");
                    return;
                }
            };
            (records, rejected, matches) = (0, 0, 0);
            let started = Instant::now();
            read_nvd(file, &name, &mut |record| match record {
                Ok(advisory) => {
                    records += 1;
                    matches += advisory
                        .configurations
                        .iter()
                        .flat_map(|c| &c.nodes)
                        .map(|n| n.matches.len())
                        .sum::<usize>();
                }
                Err(e) => {
                    first_rejection.get_or_insert(e);
                    rejected += 1;
                }
            });
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "nvd_import: {name}: {records} records ({matches} cpeMatch, {rejected} rejected) in {best:.3} s = {:.0} records/s",
            records as f64 / best
        );
        if let Some(e) = first_rejection {
            println!("nvd_import: first rejection: {e}");
        }
    }
}
