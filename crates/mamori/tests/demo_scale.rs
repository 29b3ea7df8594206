//! `mamori demo --scale N`, run as the operator runs it: the real binary on
//! a temporary data directory (SQLite) and, when `MAMORI_TEST_DATABASE_URL`
//! is set, on a fresh PostgreSQL schema.

use mamori::demo::{self, emails};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::OrgKind;
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing;
use mamori_store::{AuditContext, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use support::{BIN, Target};

mod support;

const HOSPITALS: usize = 60;

/// The binary with none of the operator's settings leaking in.
fn demo_scale(target: &Target, n: usize) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    for var in ["DATABASE_URL", "MAMORI_DATA_DIR", "MAMORI_S3_BUCKET"] {
        cmd.env_remove(var);
    }
    let output = cmd
        .env("RUST_LOG", "warn")
        .args(["demo", "--scale", &n.to_string()])
        .args(target.args())
        .stdin(Stdio::null())
        .output()
        .expect("mamori ran");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn person(store: &Store, email: &str) -> AuditContext {
    let account = store.account_by_email(email).await.expect(email);
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_scale_adds_a_nationwide_synthetic_dataset() {
    let mut targets = vec![Target::DataDir(tempfile::tempdir().expect("temp dir"))];
    if let Some(pg) = testing::postgres().await {
        targets.push(Target::Url(pg));
    }
    for target in targets {
        let label = target.label();
        let (code, stdout, stderr) = demo_scale(&target, HOSPITALS);
        assert_eq!(code, 0, "{label}\n{stdout}\n{stderr}");
        assert!(stdout.contains("synthetic data added"), "{label}: {stdout}");
        assert!(stdout.contains(demo::DEMO_PASSWORD), "{label}: {stdout}");
        let store = target.store().await;

        // N hospitals more than the demo, spread over the prefectures.
        let demo_names: BTreeSet<String> = demo::demo_hospital_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let hospitals: Vec<_> = store
            .all_organisations()
            .await
            .expect("organisations")
            .into_iter()
            .filter(|o| o.kind == OrgKind::Hospital)
            .collect();
        let synthetic: Vec<_> = hospitals
            .iter()
            .filter(|o| !demo_names.contains(&o.name))
            .collect();
        assert_eq!(hospitals.len(), demo_names.len() + HOSPITALS, "{label}");
        assert_eq!(synthetic.len(), HOSPITALS, "{label}");
        assert!(synthetic.iter().all(|o| o.name.ends_with("（デモ）")));
        let prefectures: BTreeSet<u8> = synthetic
            .iter()
            .filter_map(|o| o.hospital.as_ref())
            .map(|h| h.prefecture.code())
            .collect();
        assert!(prefectures.len() >= 15, "{label}: {prefectures:?}");
        let beds: Vec<u32> = synthetic
            .iter()
            .filter_map(|o| o.hospital.as_ref())
            .map(|h| h.bed_count)
            .collect();
        assert!(beds.iter().all(|b| (20..=1_200).contains(b)), "{beds:?}");
        assert!(beds.iter().any(|b| *b < 100) && beds.iter().any(|b| *b >= 200));

        // Every state of the lifecycle, in more than one programme.
        let operator = AuditContext::operator("test");
        let engagements = store
            .engagements_visible_to(&operator)
            .await
            .expect("engagements");
        let synthetic_ids: BTreeSet<_> = synthetic.iter().map(|o| o.id).collect();
        let ours: Vec<_> = engagements
            .iter()
            .filter(|e| synthetic_ids.contains(&e.hospital_id))
            .collect();
        assert_eq!(ours.len(), HOSPITALS, "{label}");
        let states: BTreeSet<EngagementState> = ours.iter().map(|e| e.state).collect();
        for state in EngagementState::ALL {
            assert!(states.contains(state), "{label}: no {state}");
        }
        let programmes: BTreeSet<_> = ours.iter().map(|e| e.programme_id).collect();
        assert!(programmes.len() >= 2, "{label}: {programmes:?}");
        assert!(
            ours.iter()
                .filter(|e| e.state.is_contracted())
                .any(|e| e.contract_in_force),
            "{label}"
        );

        // Ledgers of 50–2,000 assets for the hospitals past the walk-through,
        // read through the policy as the secretariat.
        let secretariat = person(&store, emails::SECRETARIAT_ADMIN).await;
        let mut sizes = BTreeMap::new();
        for e in &ours {
            let grant = store
                .authorize(
                    &secretariat,
                    e.hospital_id,
                    HospitalData::Ledger,
                    Access::Read,
                )
                .await
                .expect("secretariat reads ledgers");
            let ledger = store.ledger(&secretariat, &grant).await.expect("ledger");
            let assets = ledger.ledger.assets.len();
            if e.state.has_reached(EngagementState::InterimReview) && !e.state.is_closed_early() {
                assert!(assets > 0, "{label}: {} has no ledger", e.hospital_name);
            }
            if assets > 0 {
                assert!((50..=2_000).contains(&assets), "{label}: {assets}");
                assert!(ledger.ledger.reference_problems().is_empty());
                assert!(
                    ledger.ledger.assets.iter().any(|a| !a.cpes.is_empty()),
                    "{label}: CPE names for matching"
                );
                sizes.insert(e.hospital_name.clone(), assets);
            }
        }
        assert!(sizes.len() >= 10, "{label}: {sizes:?}");

        // Self-assessments of the hospitals being surveyed and after.
        let surveyed = ours
            .iter()
            .find(|e| e.state == EngagementState::InterimReview)
            .expect("an engagement in interim review");
        let checklist = store
            .engagement_checklist(&secretariat, surveyed.id)
            .await
            .expect("checklist");
        assert_eq!(checklist.respondents.len(), 3, "{label}");
        assert!(
            checklist
                .respondents
                .iter()
                .all(|r| r.respondent.submitted_at_ms.is_some() && !r.answers.is_empty()),
            "{label}"
        );

        // The companies' hours, in the supervisor's roll-up.
        let supervisor = person(&store, emails::SUPERVISOR).await;
        let rollup = store.labour_rollup(&supervisor).await.expect("roll-up");
        let booked = rollup
            .iter()
            .filter(|l| synthetic_ids.contains(&l.hospital_id) && !l.entries.is_empty())
            .count();
        assert!(booked >= 10, "{label}: {booked}");

        // The synthetic surveyors log in with the demo password.
        let login = store
            .check_login(
                "surveyor-s01@demo.mamori.example",
                demo::DEMO_PASSWORD,
                None,
            )
            .await
            .expect("login");
        assert!(matches!(login, mamori_store::LoginOutcome::Success(_)));

        // One audit record per batch, and the chain holds.
        assert!(
            matches!(store.verify_audit_chain().await, Ok(Ok(_))),
            "{label}"
        );
        let before = store.bulk_table_counts().await.expect("counts");
        let answers = before
            .iter()
            .find(|(t, _)| *t == "checklist_answers")
            .map_or(0, |(_, n)| *n);
        assert!(answers > 1_000, "{label}: {answers}");

        // A second run is refused and changes nothing.
        let (code, stdout, stderr) = demo_scale(&target, 5);
        assert_eq!(code, 1, "{label}\n{stdout}\n{stderr}");
        assert!(stderr.contains("already holds synthetic data"), "{stderr}");
        assert_eq!(store.bulk_table_counts().await.expect("counts"), before);

        if let Target::Url(db) = target {
            db.finish().await;
        } else {
            store.close().await;
        }
    }
}
