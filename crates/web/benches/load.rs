//! Load run on loopback: many people working at once through the API —
//! reading a hospital's ledger and labour sheet and booking hours — with
//! every write acknowledged counted and looked for afterwards. Fails on any
//! error or any lost write; prints throughput and latencies.
//!
//! `cargo bench -p mamori-web --bench load` runs 100 users for five minutes
//! (env `MAMORI_LOAD_USERS`, `MAMORI_LOAD_SECONDS`) on SQLite, or on
//! PostgreSQL with `MAMORI_LOAD_BACKEND=postgres` (and
//! `MAMORI_TEST_DATABASE_URL`); under `cargo test` (CI) a two-second round
//! with 20 users checks that it still holds.

use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, testing};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    reads: Vec<Duration>,
    writes: Vec<Duration>,
    errors: Vec<String>,
    /// The person of every booking the server acknowledged.
    acknowledged: Vec<String>,
}

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (users, seconds) = if measuring {
        (
            env_number("MAMORI_LOAD_USERS", 100),
            env_number("MAMORI_LOAD_SECONDS", 300),
        )
    } else {
        (20, 2)
    };
    let db = match std::env::var("MAMORI_LOAD_BACKEND").as_deref() {
        Ok("postgres") => testing::postgres()
            .await
            .expect("MAMORI_LOAD_BACKEND=postgres needs MAMORI_TEST_DATABASE_URL"),
        _ => testing::sqlite().await,
    };
    let backend = db.label;
    let store = db.store.clone();
    let hospital = testing::add_org(&store, OrgKind::Hospital, "湖畔病院").await;
    let company = testing::add_org(&store, OrgKind::SurveyCompany, "調査A社").await;
    let programme = testing::add_programme(&store, "令和8年度 調査").await;
    let e = testing::add_engagement(
        &store,
        programme,
        hospital,
        company,
        EngagementState::Surveying,
    )
    .await;
    let mut tokens = Vec::new();
    for n in 0..users {
        let account = testing::add_account(
            &store,
            company,
            &format!("user{n}@a.example.jp"),
            Role::Member,
        )
        .await;
        let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
        if n == 0 {
            let g = store
                .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
                .await
                .expect("grant");
            store
                .import_ledger(
                    &ctx,
                    &g,
                    &testing::complete_ledger(),
                    mamori_store::ChangeSource::Import,
                )
                .await
                .expect("ledger");
        }
        tokens.push(
            store
                .create_api_token(&ctx, account.id, "load")
                .await
                .expect("token")
                .0,
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = mamori_web::app(store.clone(), mamori_web::WebConfig::default());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    let base = format!("http://{addr}/api/v1");
    let today = store.today().to_string();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let (client, base, today) = (client.clone(), base.clone(), today.clone());
        let (hospital, engagement) = (hospital.0, e.id.0);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let started = Instant::now();
                // Three reads for each write, as people read more than they write.
                if !i.is_multiple_of(4) {
                    let path = if i.is_multiple_of(2) {
                        format!("{base}/hospitals/{hospital}/ledger")
                    } else {
                        format!("{base}/engagements/{engagement}/labour")
                    };
                    match client.get(&path).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            tally.reads.push(started.elapsed());
                        }
                        Ok(r) => tally.errors.push(format!("GET {path}: {}", r.status())),
                        Err(e) => tally.errors.push(format!("GET {path}: {e}")),
                    }
                } else {
                    // A person of their own: one person's day never passes 24 hours.
                    let person = format!("load-{n}-{i}");
                    let body = serde_json::json!({"row": 1, "person": person, "worked_on": today, "hours": 0.25, "note": "load"});
                    let path = format!("{base}/engagements/{engagement}/labour/entries");
                    match client.post(&path).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status().is_success() => {
                            tally.acknowledged.push(person);
                            tally.writes.push(started.elapsed());
                        }
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            tally.errors.push(format!("POST {path}: {status} {text}"));
                        }
                        Err(e) => tally.errors.push(format!("POST {path}: {e}")),
                    }
                }
            }
            tally
        }));
    }
    let started = Instant::now();
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await.expect("user task");
        all.reads.extend(t.reads);
        all.writes.extend(t.writes);
        all.errors.extend(t.errors);
        all.acknowledged.extend(t.acknowledged);
    }
    let elapsed = started.elapsed().as_secs_f64();

    // Every acknowledged booking must be in the sheet.
    let owner = store
        .account_by_email("user0@a.example.jp")
        .await
        .expect("account");
    let ctx = AuditContext::for_actor(owner.actor(), owner.email.clone(), None);
    let g = store
        .authorize(&ctx, hospital, HospitalData::LabourHours, Access::Read)
        .await
        .expect("grant");
    let labour = store.labour(&ctx, &g, e.id).await.expect("labour");
    let stored: std::collections::HashSet<&str> = labour
        .entries
        .iter()
        .map(|x| x.entry.person.as_str())
        .collect();
    let lost: Vec<&String> = all
        .acknowledged
        .iter()
        .filter(|p| !stored.contains(p.as_str()))
        .collect();

    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        v.get(((v.len().max(1) - 1) as f64 * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let (mut reads, mut writes) = (all.reads.clone(), all.writes.clone());
    println!(
        "load run: {users} users for {elapsed:.0} s on loopback ({backend}): {} reads, {} writes, {} errors, {} lost writes",
        reads.len(),
        writes.len(),
        all.errors.len(),
        lost.len()
    );
    println!(
        "  throughput: {:.0} requests/s ({:.0} writes/s)",
        (reads.len() + writes.len()) as f64 / elapsed,
        writes.len() as f64 / elapsed
    );
    println!(
        "  read latency ms: p50 {:.1}  p99 {:.1}  max {:.1}",
        pct(&mut reads, 0.5),
        pct(&mut reads, 0.99),
        pct(&mut reads, 1.0)
    );
    println!(
        "  write latency ms: p50 {:.1}  p99 {:.1}  max {:.1}",
        pct(&mut writes, 0.5),
        pct(&mut writes, 0.99),
        pct(&mut writes, 1.0)
    );
    assert!(
        all.errors.is_empty(),
        "errors: {:?}",
        &all.errors[..all.errors.len().min(10)]
    );
    assert!(lost.is_empty(), "lost writes: {lost:?}");
    assert!(!all.acknowledged.is_empty(), "no write went through");
    db.finish().await;
}
