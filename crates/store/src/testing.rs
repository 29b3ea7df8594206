//! Fresh, migrated stores for tests: SQLite always, PostgreSQL when
//! `MAMORI_TEST_DATABASE_URL` names a server (each test gets its own schema).

use crate::credentials::random_token;
use crate::{
    Account, AuditContext, CandidateDetails, Engagement, NewAccount, NewOrganisation,
    ProgrammeFields, Result, Store,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{
    FounderType, HospitalAttributes, Language, OrgKind, Prefecture, RecruitmentRoute, Role,
};
use mamori_domain::{OrgId, ProgrammeId};
use std::sync::Once;

/// The variable that turns the PostgreSQL half of the store tests on.
pub const TEST_DATABASE_ENV: &str = "MAMORI_TEST_DATABASE_URL";

pub struct TestDb {
    pub store: Store,
    pub label: &'static str,
    /// The URL this store was opened with (for tests that start the binary).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// Drops the PostgreSQL schema; SQLite files go with the temp dir.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((base, schema)) = &self.schema
            && let Ok(admin) = Store::connect(base).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&admin.pool)
            .await;
            admin.close().await;
        }
    }

    /// A `SELECT COUNT(*) …` behind the store's back: tests show that a
    /// refused operation left a table as it was.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.store.pool)
            .await
            .expect("a count query")
    }

    /// Runs one statement behind the store's back (tamper tests).
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&self.store.pool)
            .await?
            .rows_affected())
    }
}

/// The secret key test stores seal TOTP secrets with (so that every test
/// goes through sealing); a test that reopens a store by its URL adds it.
pub const TEST_SECRET_KEY: &str =
    "6d616d6f72692d746573742d6b65792d6e6f742d666f722d70726f6475637421";

pub fn test_secret_key() -> crate::secret_key::SecretKey {
    crate::secret_key::SecretKey::from_text(TEST_SECRET_KEY).expect("the test key")
}

pub async fn sqlite() -> TestDb {
    sqlite_at(i64::MAX).await
}

/// A SQLite store migrated up to `version` only.
pub async fn sqlite_at(version: i64) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("mamori.db").display()
    );
    let store = Store::connect(&url)
        .await
        .expect("open sqlite")
        .with_secret_key(test_secret_key());
    store.migrate_until(version).await.expect("migrate sqlite");
    TestDb {
        store,
        label: "sqlite",
        url,
        _dir: Some(dir),
        schema: None,
    }
}

/// A PostgreSQL store in a new schema, or `None` when no server is configured.
pub async fn postgres() -> Option<TestDb> {
    postgres_at(i64::MAX).await
}

/// A PostgreSQL store migrated up to `version` only, when configured.
pub async fn postgres_at(version: i64) -> Option<TestDb> {
    let base = match std::env::var(TEST_DATABASE_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                eprintln!(
                    "note: {TEST_DATABASE_ENV} is not set: PostgreSQL store tests were not run"
                );
            });
            return None;
        }
    };
    let schema = format!(
        "t_{}",
        random_token(9).to_lowercase().replace(['-', '_'], "x")
    );
    let admin = Store::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{TEST_DATABASE_ENV}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin.pool)
        .await
        .expect("create schema");
    admin.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url)
        .await
        .expect("connect to test schema")
        .with_secret_key(test_secret_key());
    store
        .migrate_until(version)
        .await
        .expect("migrate postgres");
    Some(TestDb {
        store,
        label: "postgres",
        url,
        _dir: None,
        schema: Some((base, schema)),
    })
}

/// Every backend available here: SQLite, and PostgreSQL when configured.
pub async fn all() -> Vec<TestDb> {
    all_at(i64::MAX).await
}

/// Every backend, migrated up to `version` only.
pub async fn all_at(version: i64) -> Vec<TestDb> {
    let mut dbs = vec![sqlite_at(version).await];
    if let Some(pg) = postgres_at(version).await {
        dbs.push(pg);
    }
    dbs
}

/// The password of every account the fixtures create.
pub const TEST_PASSWORD: &str = "correct horse battery";

/// Registers an organisation as the operator; hospitals get fixed facts
/// (Shimane, 199 beds, medical corporation, referred by a company).
pub async fn add_org(store: &Store, kind: OrgKind, name: &str) -> OrgId {
    let hospital = (kind == OrgKind::Hospital).then(|| {
        HospitalAttributes::new(
            Prefecture::from_code(32).expect("Shimane"),
            199,
            FounderType::MedicalCorporation,
            RecruitmentRoute::CompanyReferral,
        )
        .expect("valid hospital facts")
    });
    store
        .create_organisation(
            &AuditContext::operator("test"),
            NewOrganisation {
                kind,
                name: name.into(),
                hospital,
            },
        )
        .await
        .expect("organisation")
        .id
}

/// Creates an account with [`TEST_PASSWORD`], Japanese screens.
pub async fn add_account(store: &Store, org: OrgId, email: &str, role: Role) -> Account {
    store
        .create_account(
            &AuditContext::operator("test"),
            NewAccount {
                org,
                email: email.into(),
                display_name: format!("{email} さん"),
                role,
                language: Language::Japanese,
                password: TEST_PASSWORD.into(),
            },
        )
        .await
        .expect("account")
}

/// A programme of fiscal year 2026 with the default schedule and cap.
pub async fn add_programme(store: &Store, name: &str) -> ProgrammeId {
    store
        .create_programme(
            &AuditContext::operator("test"),
            &ProgrammeFields {
                name: name.into(),
                fiscal_year: 2026,
                research_lead: "研究代表者 出雲 太郎".into(),
                labour_cap_yen: None,
                honorarium_rate_yen: None,
                checklist_versions: vec!["令和6年度版".into()],
                notes: String::new(),
            },
        )
        .await
        .expect("programme")
        .id
}

/// Runs `test` on every backend (SQLite, and PostgreSQL when configured),
/// each on a fresh store it hands back to be dropped.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = TestDb>,
{
    for db in all().await {
        eprintln!("-- on {}", db.label);
        test(db).await.finish().await;
    }
}

/// An engagement walked through the real procedure to `state` (pledge,
/// NDA, estimate and order recorded on the way).
pub async fn add_engagement(
    store: &Store,
    programme: ProgrammeId,
    hospital: OrgId,
    company: OrgId,
    state: EngagementState,
) -> Engagement {
    crate::walk::engagement_in_state(
        store,
        &AuditContext::operator("test"),
        programme,
        hospital,
        company,
        CandidateDetails::default(),
        state,
    )
    .await
    .expect("engagement")
}

/// Sets the programme's checklist to the latest version of the framework
/// `key` (e.g. `mhlw-r6`, installed with the schema), as the operator.
pub async fn set_checklist(
    store: &Store,
    programme: ProgrammeId,
    key: &str,
) -> crate::FrameworkRecord {
    let operator = AuditContext::operator("test");
    let framework = store
        .frameworks(&operator)
        .await
        .expect("frameworks")
        .into_iter()
        .filter(|f| f.key == key)
        .max_by_key(|f| f.version)
        .unwrap_or_else(|| panic!("no framework {key}"));
    store
        .set_programme_framework(&operator, programme, framework.id)
        .await
        .expect("programme framework");
    framework
}

fn record<R: mamori_domain::ledger::RowRecord>(pairs: &[(&str, &str)]) -> R {
    let map: std::collections::BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&mamori_domain::ledger::Cells::from_map::<R>(&map)).expect("valid test record")
}

/// [`complete_ledger`] with its VPN gateway a Fortinet FortiGate on
/// FortiOS `version` (with its CPE), maintained by 保守ベンダーA: the
/// device the real CVE-2024-21762 reaches below 7.0.14.
pub fn ledger_with_fortigate(version: &str) -> mamori_domain::ledger::Ledger {
    let mut ledger = complete_ledger();
    if let Some(fw) = ledger
        .assets
        .iter_mut()
        .find(|a| a.key.to_string() == "FW-01")
    {
        fw.vendor = "Fortinet".into();
        fw.product = "FortiGate".into();
        fw.version = version.into();
        fw.maintenance_vendor = "保守ベンダーA".into();
        fw.cpes = vec![format!(
            "cpe:2.3:o:fortinet:fortios:{version}:*:*:*:*:*:*:*"
        )];
    }
    ledger
}

/// A small ledger with everything ④ to ⑦ need: a system, a server, a VPN
/// gateway and terminals on one segment, a connection with its log, a
/// backup and three roles with an incident contact chain.
pub fn complete_ledger() -> mamori_domain::ledger::Ledger {
    use mamori_domain::ledger::*;
    Ledger {
        assets: vec![
            record::<Asset>(&[
                ("key", "SYS-EMR"),
                ("kind", "システム"),
                ("name", "電子カルテ"),
            ]),
            record::<Asset>(&[
                ("key", "SV-01"),
                ("kind", "サーバ"),
                ("name", "電子カルテサーバ"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
            ]),
            record::<Asset>(&[
                ("key", "FW-01"),
                ("kind", "VPN装置"),
                ("name", "保守用VPN"),
                ("segment", "SEG-1"),
            ]),
            record::<Asset>(&[
                ("key", "PC-01"),
                ("kind", "端末"),
                ("name", "診察端末"),
                ("system", "SYS-EMR"),
                ("segment", "SEG-1"),
                ("quantity", "40"),
            ]),
        ],
        segments: vec![record::<Segment>(&[
            ("key", "SEG-1"),
            ("name", "医療系LAN"),
            ("kind", "医療系"),
        ])],
        links: vec![record::<Link>(&[
            ("key", "L-1"),
            ("from", "SV-01"),
            ("to", "FW-01"),
        ])],
        connections: vec![record::<ExternalConnection>(&[
            ("key", "C-1"),
            ("category", "ネットワーク保守"),
            ("counterpart", "保守ベンダーA"),
            ("method", "インターネットVPN"),
            ("boundary_device", "FW-01"),
        ])],
        investigations: vec![record::<InvestigationEntry>(&[
            ("key", "I-1"),
            ("connection", "C-1"),
            ("date", "2026-11-10"),
            ("source", "ヒアリング"),
            ("finding", "管理者が把握"),
        ])],
        backups: vec![record::<Backup>(&[
            ("key", "B-1"),
            ("system", "SYS-EMR"),
            ("data_covered", "データベース"),
            ("generations", "3"),
            ("offline_copy", "はい"),
        ])],
        roles: vec![
            record::<StructureRole>(&[("key", "R-1"), ("kind", "経営層"), ("title", "院長")]),
            record::<StructureRole>(&[
                ("key", "R-2"),
                ("kind", "システム管理者"),
                ("title", "情報システム室長"),
                ("reports_to", "R-1"),
                ("incident_order", "1"),
            ]),
        ],
        catalogue_keys: Default::default(),
    }
}

/// Brings all seven deliverables of `engagement` to approved the way the
/// people do it: the programme gets the MHLW checklist, the company adds a
/// director, an administrator and a user who answer every cell, imports
/// [`complete_ledger`], submits ① to ⑦, and the supervisor approves each.
pub async fn approve_all_deliverables(
    store: &Store,
    engagement: &Engagement,
    company: &Account,
    supervisor: &Account,
) {
    use mamori_domain::checklist::{Answer, AnswerValue, CellKey, RespondentRole};
    use mamori_domain::deliverable::{DeliverableKind, ReviewAction};
    use mamori_domain::policy::{Access, HospitalData};
    let as_company = AuditContext::for_actor(company.actor(), company.email.clone(), None);
    let as_supervisor = AuditContext::for_actor(supervisor.actor(), supervisor.email.clone(), None);
    let framework = set_checklist(store, engagement.programme_id, "mhlw-r6").await;
    let form = framework
        .framework
        .form("hospital")
        .cloned()
        .expect("hospital form");
    let yes = Answer {
        value: AnswerValue::Yes,
        checked_on: Some(store.today()),
        target_on: None,
        not_understood: String::new(),
    };
    for (role, name) in [
        (RespondentRole::Director, "院長"),
        (RespondentRole::Administrator, "情報システム室長"),
        (RespondentRole::User, "看護師長"),
    ] {
        let respondent = store
            .add_respondent(
                &as_company,
                engagement.id,
                &crate::NewRespondent {
                    form_key: "hospital".into(),
                    role,
                    name: name.into(),
                    account: None,
                },
            )
            .await
            .expect("respondent");
        for (item, cell) in form.cells() {
            let key = CellKey::new(item.number.clone(), cell.scope);
            store
                .save_answer(&as_company, respondent.id, framework.id, &key, &yes)
                .await
                .expect("answer");
        }
    }
    let grant = store
        .authorize(
            &as_company,
            engagement.hospital_id,
            HospitalData::Ledger,
            Access::Write,
        )
        .await
        .expect("ledger grant");
    store
        .import_ledger(
            &as_company,
            &grant,
            &complete_ledger(),
            crate::ChangeSource::Import,
        )
        .await
        .expect("ledger");
    for &kind in DeliverableKind::ALL {
        let grant = store
            .authorize(
                &as_company,
                engagement.hospital_id,
                HospitalData::Deliverables,
                Access::Write,
            )
            .await
            .expect("deliverables grant");
        store
            .submit_deliverable(&as_company, &grant, engagement.id, kind)
            .await
            .unwrap_or_else(|e| panic!("submit {kind}: {e}"));
        let grant = store
            .authorize(
                &as_supervisor,
                engagement.hospital_id,
                HospitalData::Deliverables,
                Access::Review,
            )
            .await
            .expect("review grant");
        store
            .review_deliverable(
                &as_supervisor,
                &grant,
                engagement.id,
                kind,
                ReviewAction::Approve,
                "",
            )
            .await
            .unwrap_or_else(|e| panic!("approve {kind}: {e}"));
    }
}
