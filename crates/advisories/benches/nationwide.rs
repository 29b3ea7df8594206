//! Nationwide scale: every hospital's ledger in one `Inventory`, against
//! the advisory data of every format. Prints figures, each with its goal:
//!
//! 1. import throughput per format (records/s), parsing the shared data;
//! 2. the time to build the in-memory index and its size;
//! 3. one new advisory against the whole ledger (median and max, ms);
//! 4. a full re-match of every advisory read (s);
//! 5. peak memory (`VmHWM`).
//!
//! `cargo bench -p mamori-advisories --bench nationwide`. The ledger is
//! synthetic (see `nationwide/generator.rs`): 8,000 hospitals × 300 assets
//! unless `MAMORI_BENCH_HOSPITALS` / `MAMORI_BENCH_ASSETS` say otherwise.
//! The advisory data lives outside the repository (`../shared/data/vuln/`
//! next to the workspace, or `MAMORI_VULN_DATA`); without it the bench
//! says so and reads the repository's test fixtures instead.

#[path = "nationwide/generator.rs"]
mod generator;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mamori_advisories::csaf::parse_csaf;
use mamori_advisories::cve5::parse_cve5;
use mamori_advisories::jvn::parse_jvn;
use mamori_advisories::kev::parse_kev;
use mamori_advisories::nvd::parse_nvd;
use mamori_advisories::{Advisory, Inventory, ParseOutcome, VersionSpec};

use generator::{Ledger, NamedDevice};

const SEED: u64 = 0x6d61_6d6f_7269_2d6a;
const GOAL_ONE_MS: f64 = 10.0;
const GOAL_FULL_S: f64 = 60.0;
const GOAL_PEAK_MB: f64 = 2048.0;
const REPEATS: usize = 100;

type Parser = fn(&[u8], &str) -> ParseOutcome;

/// One advisory format: where its files are and how they are read.
struct Format {
    name: &'static str,
    shared_dir: &'static str,
    fixture_dir: &'static str,
    suffixes: &'static [&'static str],
    fixture_suffixes: &'static [&'static str],
    parse: Parser,
}

const FORMATS: &[Format] = &[
    Format {
        name: "NVD (derived from CISA-ADP)",
        shared_dir: "nvd/derived-from-cisa-adp",
        fixture_dir: "nvd",
        suffixes: &[".json.gz"],
        fixture_suffixes: &[".json", ".json.gz"],
        parse: parse_nvd,
    },
    Format {
        name: "CVE 5",
        shared_dir: "cve5/2024",
        fixture_dir: "cve5",
        suffixes: &[".json"],
        fixture_suffixes: &[".json"],
        parse: parse_cve5,
    },
    Format {
        name: "CSAF",
        shared_dir: "csaf",
        fixture_dir: "csaf",
        suffixes: &[".json"],
        fixture_suffixes: &[".json"],
        parse: parse_csaf,
    },
    Format {
        name: "KEV",
        shared_dir: "kev",
        fixture_dir: "kev",
        suffixes: &[".json"],
        fixture_suffixes: &[".json"],
        parse: parse_kev,
    },
    Format {
        name: "JVN",
        shared_dir: "jvn",
        fixture_dir: "jvn",
        suffixes: &[".xml"],
        fixture_suffixes: &[".xml", ".rdf"],
        parse: parse_jvn,
    },
];

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            println!("nationwide: {name}={text:?} is not a number, using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// Files under `dir` (recursively) whose names end in one of `suffixes`,
/// sorted so that runs read them in the same order.
fn files_under(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Thousands separated by commas, for counts people read.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The devices the ICSMA advisories name, with a release each statement
/// gives (an exact version, or a range's bound), for the ledger's tail.
fn icsma_devices(advisories: &[Advisory]) -> Vec<NamedDevice> {
    let mut out: Vec<NamedDevice> = Vec::new();
    for a in advisories
        .iter()
        .filter(|a| a.id.to_ascii_uppercase().starts_with("ICSMA"))
    {
        for p in &a.products {
            let versions: Vec<String> = p
                .versions
                .iter()
                .filter_map(|v| match v {
                    VersionSpec::Exact { version } => Some(version.clone()),
                    VersionSpec::Range { range } => range
                        .end
                        .as_ref()
                        .or(range.start.as_ref())
                        .map(|b| b.version.clone()),
                    VersionSpec::All | VersionSpec::Text { .. } => None,
                })
                .collect();
            let model = p
                .model_numbers
                .first()
                .cloned()
                .unwrap_or_else(|| p.product.clone());
            if out
                .iter()
                .any(|d| d.vendor == p.vendor && d.product == p.product)
            {
                continue;
            }
            out.push(NamedDevice {
                vendor: p.vendor.clone(),
                product: p.product.clone(),
                versions,
                model,
            });
        }
    }
    out
}

fn main() {
    let hospitals = env_number("MAMORI_BENCH_HOSPITALS", 8_000) as u32;
    let assets = env_number("MAMORI_BENCH_ASSETS", 300).min(u64::from(u16::MAX)) as u16;
    let root = std::env::var_os("MAMORI_VULN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vuln")
        });
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let shared = root.is_dir();

    println!("== Mamori nationwide bench");
    println!(
        "reproduce: cargo bench -p mamori-advisories --bench nationwide   \
         (sizes: MAMORI_BENCH_HOSPITALS={hospitals} MAMORI_BENCH_ASSETS={assets})"
    );
    if !shared {
        println!(
            "shared advisory data: skipped, {} not found; reading the repository's fixtures ({}) instead",
            root.display(),
            fixtures.display()
        );
    } else {
        println!("shared advisory data: {}", root.display());
    }

    // 1. Import throughput, per format.
    println!();
    println!(
        "[1] import throughput (parse only; files read into memory first; goal: none, reported)"
    );
    let mut pool: Vec<Advisory> = Vec::new();
    let mut per_format: Vec<(&str, usize)> = Vec::new();
    for format in FORMATS {
        let (dir, suffixes) = if shared {
            (root.join(format.shared_dir), format.suffixes)
        } else {
            (fixtures.join(format.fixture_dir), format.fixture_suffixes)
        };
        let files = files_under(&dir, suffixes);
        if files.is_empty() {
            println!(
                "    {:<28} skipped: no {} files under {}",
                format.name,
                suffixes.join("/"),
                dir.display()
            );
            per_format.push((format.name, 0));
            continue;
        }
        let mut contents = Vec::with_capacity(files.len());
        let mut bytes = 0usize;
        for path in &files {
            match std::fs::read(path) {
                Ok(data) => {
                    bytes += data.len();
                    contents.push((path.display().to_string(), data));
                }
                Err(e) => println!("    cannot read {}: {e}", path.display()),
            }
        }
        let started = Instant::now();
        let (mut records, mut rejected) = (0usize, 0usize);
        let mut first_rejection = None;
        for (name, data) in &contents {
            let outcome = (format.parse)(data, name);
            records += outcome.advisories.len();
            rejected += outcome.rejected.len();
            if first_rejection.is_none() {
                first_rejection = outcome.rejected.into_iter().next();
            }
            pool.extend(outcome.advisories);
        }
        let took = started.elapsed().as_secs_f64();
        println!(
            "    {:<28} {:>6} files {:>7.1} MB  {:>7} records  {:>5} rejected  {:>7.3} s  = {:>9.0} records/s",
            format.name,
            contents.len(),
            bytes as f64 / 1e6,
            grouped(records),
            rejected,
            took,
            records as f64 / took.max(1e-9)
        );
        if let Some(r) = first_rejection {
            let text = r.to_string();
            let short: String = text.chars().take(150).collect();
            println!("        first rejection: {short}");
        }
        per_format.push((format.name, records));
    }
    println!(
        "    all formats: {} advisories in memory",
        grouped(pool.len())
    );

    // 2. The index: generate the ledger and add every asset.
    println!();
    println!(
        "[2] in-memory index: {} hospitals × {} assets = {} assets",
        grouped(hospitals as usize),
        assets,
        grouped(hospitals as usize * usize::from(assets))
    );
    let named = icsma_devices(&pool);
    let rss_before = status_kb("VmRSS:").unwrap_or(0);
    let mut ledger = Ledger::new(hospitals, assets, SEED, &named);
    let mut inventory: Inventory<(u32, u16)> = Inventory::new();
    let mut adding = Duration::ZERO;
    let started = Instant::now();
    ledger.for_each(|holder, item| {
        let t = Instant::now();
        inventory.add(holder, item);
        adding += t.elapsed();
    });
    let total = started.elapsed();
    let rss_after = status_kb("VmRSS:").unwrap_or(0);
    println!(
        "    generator: {} product lines ({} device names from ICSMA advisories), seed {SEED:#x}",
        ledger.families(),
        named.len()
    );
    println!(
        "    build: {:.2} s in Inventory::add ({:.2} s with generation) = {:.0} assets/s",
        adding.as_secs_f64(),
        total.as_secs_f64(),
        inventory.holders() as f64 / adding.as_secs_f64().max(1e-9)
    );
    println!(
        "    size: {} distinct items ({} once models are set aside), {} holders ({} B per holder key); RSS grew {:.0} MB while building",
        grouped(inventory.distinct_items()),
        grouped(inventory.model_groups()),
        grouped(inventory.holders()),
        std::mem::size_of::<(u32, u16)>(),
        mb(rss_after.saturating_sub(rss_before))
    );
    drop(ledger);

    // 3. One new advisory against the whole ledger.
    println!();
    println!(
        "[3] one new advisory against the whole ledger ({REPEATS} runs each; goal ≤ {GOAL_ONE_MS} ms)"
    );
    let probes = probe_advisories(&root, &fixtures, shared, &pool);
    let mut worst_ms = 0.0f64;
    for (label, advisory) in &probes {
        let mut times = Vec::with_capacity(REPEATS);
        let mut reached = (0usize, 0usize);
        for _ in 0..REPEATS {
            let t = Instant::now();
            let found = inventory.matches(advisory);
            times.push(t.elapsed());
            reached = (found.len(), found.iter().map(|(h, _)| h.len()).sum());
            std::hint::black_box(&found);
        }
        times.sort();
        let median = ms(times[times.len() / 2]);
        let max = ms(*times.last().expect("REPEATS > 0"));
        worst_ms = worst_ms.max(median);
        println!(
            "    {:<44} median {:>8.3} ms  max {:>8.3} ms  {:>5} items  {:>9} assets  {}",
            label,
            median,
            max,
            reached.0,
            grouped(reached.1),
            verdict(median <= GOAL_ONE_MS)
        );
    }
    if probes.is_empty() {
        println!("    skipped: none of the probe advisories could be read");
    }

    // 4. Full re-match: every advisory read, against everything.
    println!();
    println!(
        "[4] full re-match: every advisory read against the whole ledger (goal ≤ {GOAL_FULL_S} s)"
    );
    let started = Instant::now();
    let (mut advisories_hit, mut item_matches, mut holder_matches) = (0usize, 0usize, 0usize);
    let mut slowest: Vec<(Duration, usize)> = Vec::new();
    for (i, advisory) in pool.iter().enumerate() {
        let t = Instant::now();
        let found = inventory.matches(advisory);
        let took = t.elapsed();
        if !found.is_empty() {
            advisories_hit += 1;
        }
        item_matches += found.len();
        holder_matches += found.iter().map(|(h, _)| h.len()).sum::<usize>();
        slowest.push((took, i));
    }
    let full = started.elapsed().as_secs_f64();
    println!(
        "    {} advisories ({} reach at least one asset), {} item matches, {} holder matches, {:.2} s  {}",
        grouped(pool.len()),
        grouped(advisories_hit),
        grouped(item_matches),
        grouped(holder_matches),
        full,
        verdict(full <= GOAL_FULL_S)
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let slow_sum: Duration = slowest.iter().take(20).map(|(d, _)| *d).sum();
    println!(
        "    slowest advisories (the top 20 take {:.2} s):",
        slow_sum.as_secs_f64()
    );
    for (took, i) in slowest.iter().take(5) {
        let a = &pool[*i];
        println!(
            "      {:>9.2} ms  {} ({:?}, {} configurations, {} statements)",
            ms(*took),
            a.id,
            a.source,
            a.configurations.len(),
            a.products.len()
        );
    }

    // 5. Peak memory.
    println!();
    match status_kb("VmHWM:") {
        Some(kb) => println!(
            "[5] peak memory (VmHWM): {:.0} MB (goal ≤ {:.0} MB)  {}",
            mb(kb),
            GOAL_PEAK_MB,
            verdict(mb(kb) <= GOAL_PEAK_MB)
        ),
        None => println!("[5] peak memory: skipped, /proc/self/status has no VmHWM"),
    }
    println!();
    println!(
        "summary: one advisory worst median {worst_ms:.3} ms ({}), full re-match {full:.2} s ({}), formats read: {}",
        verdict(worst_ms <= GOAL_ONE_MS),
        verdict(full <= GOAL_FULL_S),
        per_format
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("reproduce: cargo bench -p mamori-advisories --bench nationwide");
}

/// Real advisories a hospital would get one at a time: FortiOS, Ivanti
/// Connect Secure, PAN-OS, Windows, GE and Philips medical devices, and
/// KEV's name-only entry for a FortiOS flaw (it reaches by vendor name).
fn probe_advisories(
    root: &Path,
    fixtures: &Path,
    shared: bool,
    pool: &[Advisory],
) -> Vec<(String, Advisory)> {
    let nvd: &[(&str, &str, &str)] = &[
        ("CVE-2024-21762.json", "CVE-2024-21762.json", "FortiOS"),
        (
            "CVE-2023-46805.json",
            "CVE-2023-46805.json",
            "Ivanti Connect Secure",
        ),
        ("CVE-2024-3400.json", "", "PAN-OS"),
        ("CVE-2021-40444.json", "", "Windows"),
        (
            "CVE-2020-25175.excerpt.json",
            "CVE-2020-25175.excerpt.json",
            "GE HealthCare",
        ),
    ];
    let mut out = Vec::new();
    for (golden, fixture, what) in nvd {
        let path = if shared {
            root.join("nvd/golden").join(golden)
        } else if fixture.is_empty() {
            continue;
        } else {
            fixtures.join("nvd").join(fixture)
        };
        if let Ok(bytes) = std::fs::read(&path)
            && let Some(a) = parse_nvd(&bytes, golden).advisories.into_iter().next()
        {
            out.push((format!("NVD {} ({what})", a.id), a));
        }
    }
    for (file, what) in [
        ("icsma-21-187-01.json", "Philips Vue PACS"),
        ("icsma-20-343-01.json", "GE imaging"),
    ] {
        let path = if shared {
            root.join("csaf/cisa-icsma").join(file)
        } else {
            fixtures.join("csaf").join(file)
        };
        if let Ok(bytes) = std::fs::read(&path)
            && let Some(a) = parse_csaf(&bytes, file).advisories.into_iter().next()
        {
            out.push((format!("CSAF {} ({what})", a.id), a));
        }
    }
    for (id, source, what) in [
        (
            "CVE-2024-21762",
            mamori_advisories::Source::Kev,
            "FortiOS by name",
        ),
        (
            "CVE-2024-47575",
            mamori_advisories::Source::Cve5,
            "FortiManager",
        ),
    ] {
        if let Some(a) = pool.iter().find(|a| a.id == id && a.source == source) {
            out.push((
                format!("{} {} ({what})", source.slug().to_uppercase(), a.id),
                a.clone(),
            ));
        }
    }
    out
}
