//! Login throughput: how many password logins per second one instance
//! answers on the embedded SQLite store. Argon2id (19 MiB, 2 passes) is
//! meant to dominate; the figure tells how many people can log in at the
//! start of a working day, and how costly a password-guessing burst is.
//!
//! `cargo bench -p mamori-web --bench login` (env `MAMORI_BENCH_SECONDS`,
//! `MAMORI_BENCH_CLIENTS` change the run).

use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PASSWORD: &str = testing::TEST_PASSWORD;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not,
    // and then one short round only checks that the benchmark still runs.
    let measuring = std::env::args().any(|a| a == "--bench");
    let seconds = if measuring {
        env_number("MAMORI_BENCH_SECONDS", 10)
    } else {
        1
    };
    let clients = env_number("MAMORI_BENCH_CLIENTS", 8) as usize;
    let db = testing::sqlite().await;
    let org = testing::add_org(&db.store, OrgKind::Secretariat, "事務局").await;
    testing::add_account(&db.store, org, "bench@example.jp", Role::Admin).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = mamori_web::app(
        db.store.clone(),
        mamori_web::WebConfig {
            tls: false,
            trust_forwarded_for: true,
            ..Default::default()
        },
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let url = format!("http://{addr}/login");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for n in 0..clients {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let forwarded = format!("10.1.{}.{}", n / 250, n % 250 + 1);
            let token = format!("benchmark-presession-token-{n:04}");
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = client
                    .post(&url)
                    .header("cookie", format!("mamori_presession={token}"))
                    .header("x-forwarded-for", &forwarded)
                    .form(&[
                        ("csrf", token.as_str()),
                        ("email", "bench@example.jp"),
                        ("password", PASSWORD),
                    ])
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status().as_u16(), 303, "login must succeed");
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("client task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "login benchmark: {} successful logins by {clients} clients in {elapsed:.1} s",
        latencies.len()
    );
    println!(
        "  throughput: {:.1} logins/s",
        latencies.len() as f64 / elapsed
    );
    println!(
        "  latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "  cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    db.finish().await;
}
