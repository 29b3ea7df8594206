//! The hospital ledger as stored: records of every kind with versions,
//! history, soft deletion and confirmation; imports; the ledger as of a
//! moment; CPE rows; the shared device catalogue; photos. Run on SQLite
//! and (when configured) PostgreSQL.

use mamori_domain::audit::{AuditAction, AuditRecord};
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{
    Asset, Cells, DeviceModel, InvestigationEntry, Ledger, LedgerKey, LedgerRecord, RecordKind,
    RowRecord, Segment, StructureRole,
};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, Actor, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, OrgId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{
    AuditContext, AuditFilter, ChangeAction, ChangeSource, HistoryFilter, ImportOutcome, NewFile,
    Store, StoreError,
};
use std::collections::BTreeMap;
use time::macros::date;

struct World {
    hospital: OrgId,
    other_hospital: OrgId,
    /// The survey company with a contracted engagement of `hospital`.
    company: AuditContext,
    company_account: AccountId,
    /// A survey company with no engagement of `hospital`.
    stranger: AuditContext,
    secretariat: AuditContext,
    staff: AuditContext,
    /// Staff of another hospital.
    other_staff: AuditContext,
}

fn ctx(account: &mamori_store::Account) -> AuditContext {
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2026 - 12 - 01));
    let sec = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let stranger = testing::add_org(s, OrgKind::SurveyCompany, "調査C社").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let other = testing::add_org(s, OrgKind::Hospital, "山間病院").await;
    let sec_account = testing::add_account(s, sec, "sec@example.jp", Role::Member).await;
    let company_account = testing::add_account(s, company, "a@example.jp", Role::Member).await;
    let stranger_account = testing::add_account(s, stranger, "c@example.jp", Role::Member).await;
    let staff = testing::add_account(s, hospital, "h@example.jp", Role::Member).await;
    let other_staff = testing::add_account(s, other, "o@example.jp", Role::Member).await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying).await;
    World {
        hospital,
        other_hospital: other,
        company: ctx(&company_account),
        company_account: company_account.id,
        stranger: ctx(&stranger_account),
        secretariat: ctx(&sec_account),
        staff: ctx(&staff),
        other_staff: ctx(&other_staff),
    }
}

async fn grant(s: &Store, ctx: &AuditContext, hospital: OrgId, access: Access) -> HospitalGrant {
    s.authorize(ctx, hospital, HospitalData::Ledger, access)
        .await
        .expect("ledger grant")
}

fn key(k: &str) -> LedgerKey {
    LedgerKey::parse(k).expect("key")
}

/// A record read from field/value pairs, as a form or a sheet gives it.
fn record<R: RowRecord>(pairs: &[(&str, &str)]) -> R {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&Cells::from_map::<R>(&map)).expect("valid test record")
}

fn segment(k: &str, name: &str) -> Segment {
    record(&[("key", k), ("name", name), ("kind", "医療系")])
}

fn asset(k: &str, kind: &str, segment: &str) -> Asset {
    record(&[
        ("key", k),
        ("kind", kind),
        ("name", &format!("{k} の名称")),
        ("segment", segment),
    ])
}

fn model(k: &str) -> DeviceModel {
    record(&[
        ("key", k),
        ("kind", "VPN装置"),
        ("vendor", "Fortinet"),
        ("product", "FortiGate"),
        ("cpes", "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
    ])
}

fn invalid(err: &StoreError) -> (&'static str, String) {
    match err {
        StoreError::Invalid(DomainError::Invalid { field, reason }) => (field, reason.clone()),
        other => panic!("expected a refused field, got {other:?}"),
    }
}

async fn audited(s: &Store, action: AuditAction) -> Vec<AuditRecord> {
    s.audit_page(
        None,
        &AuditFilter {
            action: Some(action.slug().to_string()),
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .records
}

/// Rows of every table the ledger writes.
async fn tables(db: &TestDb) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "ledger_records",
        "ledger_history",
        "ledger_cpes",
        "ledger_photos",
        "device_models",
        "device_model_history",
        "files",
    ] {
        counts.push(db.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

async fn save<R: LedgerRecord>(
    s: &Store,
    ctx: &AuditContext,
    hospital: OrgId,
    r: &R,
) -> mamori_store::RecordMeta {
    let g = grant(s, ctx, hospital, Access::Write).await;
    s.save_ledger_record(ctx, &g, r, None, ChangeSource::Form)
        .await
        .unwrap_or_else(|e| panic!("save {} {}: {e}", R::KIND, r.key()))
}

async fn read(s: &Store, ctx: &AuditContext, hospital: OrgId) -> mamori_store::StoredLedger {
    let g = grant(s, ctx, hospital, Access::Read).await;
    s.ledger(ctx, &g).await.expect("ledger")
}

/// One record of every kind, in an order whose references resolve.
fn full_ledger() -> Ledger {
    Ledger {
        segments: vec![segment("SEG-1", "電子カルテ系")],
        assets: vec![
            asset("SYS-EHR", "システム", ""),
            record(&[
                ("key", "FW-01"),
                ("kind", "VPN装置"),
                ("name", "保守用VPN"),
                ("system", "SYS-EHR"),
                ("segment", "SEG-1"),
                ("cpes", "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
                ("remote_maintenance", "常時接続"),
                ("end_of_support", "2027-03-31"),
            ]),
            asset("SV-01", "サーバ", "SEG-1"),
        ],
        links: vec![record(&[
            ("key", "L-1"),
            ("from", "FW-01"),
            ("to", "SV-01"),
            ("medium", "有線"),
        ])],
        connections: vec![record(&[
            ("key", "C-1"),
            ("category", "ネットワーク保守"),
            ("counterpart", "保守ベンダー"),
            ("method", "インターネットVPN"),
            ("boundary_device", "FW-01"),
            ("known_to_administrator", "いいえ"),
        ])],
        investigations: vec![record(&[
            ("key", "I-1"),
            ("connection", "C-1"),
            ("date", "2026-11-20"),
            ("source", "院内巡回"),
            ("finding", "ラックに保守用VPN装置を発見"),
        ])],
        backups: vec![record(&[
            ("key", "B-1"),
            ("system", "SYS-EHR"),
            ("generations", "7"),
            ("offline_copy", "はい"),
        ])],
        roles: vec![
            record(&[("key", "R-1"), ("kind", "経営層"), ("title", "院長")]),
            record(&[
                ("key", "R-2"),
                ("kind", "システム管理者"),
                ("title", "情報システム室長"),
                ("reports_to", "R-1"),
                ("business_email", "it@example.jp"),
            ]),
        ],
        catalogue_keys: Default::default(),
    }
}

async fn save_all(s: &Store, ctx: &AuditContext, hospital: OrgId, l: &Ledger) -> usize {
    let mut n = 0;
    for r in &l.segments {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.assets {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.links {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.connections {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.investigations {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.backups {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    for r in &l.roles {
        save(s, ctx, hospital, r).await;
        n += 1;
    }
    n
}

#[tokio::test]
async fn every_record_kind_is_written_and_read_back_with_audit_records() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let expected = full_ledger();
        let n = save_all(s, &w.company, w.hospital, &expected).await;
        assert_eq!(n, 10);

        let stored = read(s, &w.company, w.hospital).await;
        assert_eq!(stored.ledger, expected, "{}", db.label);
        assert_eq!(stored.meta.len(), n);
        for kind in RecordKind::ALL {
            assert!(
                !stored.ledger.keys(*kind).is_empty(),
                "{kind} was written and read"
            );
        }
        let meta = stored.meta_of(RecordKind::Asset, &key("FW-01")).unwrap();
        assert_eq!(meta.version, 1);
        assert_eq!(meta.updated_by, Some(w.company_account));
        assert_eq!(meta.confirmed_at_ms, None);
        // Insertion order, not key order.
        let assets: Vec<&str> = stored
            .ledger
            .assets
            .iter()
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(assets, ["SYS-EHR", "FW-01", "SV-01"]);

        // Every write and the read are audited, against the hospital.
        let saved = audited(s, AuditAction::LedgerRecordSaved).await;
        assert_eq!(saved.len(), n);
        assert!(saved.iter().all(|r| r.content.hospital == Some(w.hospital)));
        assert!(
            saved.iter().any(|r| r
                .content
                .detail
                .contains("kind=asset key=FW-01 version=1 created source=form")),
            "{saved:?}"
        );
        let reads = audited(s, AuditAction::HospitalDataRead).await;
        let ledger_reads: Vec<_> = reads
            .iter()
            .filter(|r| r.content.target == format!("ledger:{}", w.hospital))
            .collect();
        assert_eq!(ledger_reads.len(), 1);
        assert_eq!(
            ledger_reads[0].content.actor_account,
            Some(w.company_account)
        );
        db
    })
    .await;
}

#[tokio::test]
async fn the_contracted_company_and_the_hospital_write_the_secretariat_only_reads() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        save(s, &w.staff, w.hospital, &asset("PC-1", "端末", "SEG-1")).await;
        let before = tables(&db).await;
        let denied_before = audited(s, AuditAction::AccessDenied).await.len();

        // The secretariat reads the ledger and may not write it.
        let seen = read(s, &w.secretariat, w.hospital).await;
        assert_eq!(seen.ledger.assets.len(), 1);
        let err = s
            .authorize(
                &w.secretariat,
                w.hospital,
                HospitalData::Ledger,
                Access::Write,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err:?}");
        // A company without an engagement, another hospital's staff: nothing.
        for (who, access) in [
            (&w.stranger, Access::Read),
            (&w.stranger, Access::Write),
            (&w.other_staff, Access::Read),
            (&w.other_staff, Access::Write),
        ] {
            let err = s
                .authorize(who, w.hospital, HospitalData::Ledger, access)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{access}: {err:?}");
        }
        assert_eq!(
            audited(s, AuditAction::AccessDenied).await.len(),
            denied_before + 5
        );
        // A grant is for its holder, its hospital's ledger and its access only.
        let company_write = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .save_ledger_record(
                &w.stranger,
                &company_write,
                &asset("PC-2", "端末", ""),
                None,
                ChangeSource::Api,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
        let company_read = grant(s, &w.company, w.hospital, Access::Read).await;
        let err = s
            .save_ledger_record(
                &w.company,
                &company_read,
                &asset("PC-2", "端末", ""),
                None,
                ChangeSource::Api,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
        let err = s.ledger(&w.company, &company_write).await.unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
        // The other hospital's own ledger is its own, and empty.
        assert!(
            read(s, &w.other_staff, w.other_hospital)
                .await
                .meta
                .is_empty()
        );

        // The NDA revoked after the grant was given: the write is refused
        // inside its transaction.
        db.execute_raw("UPDATE agreements SET revoked_on = '2026-11-30' WHERE kind = 'nda'")
            .await
            .unwrap();
        let err = s
            .save_ledger_record(
                &w.company,
                &company_write,
                &asset("PC-3", "端末", ""),
                None,
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err:?}");
        assert_eq!(tables(&db).await, before, "nothing written");
        db
    })
    .await;
}

#[tokio::test]
async fn a_bad_record_is_refused_naming_its_field() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let before = tables(&db).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let mut bad = asset("PC-1", "端末", "");
        bad.quantity = 0;
        let err = s
            .save_ledger_record(&w.company, &g, &bad, None, ChangeSource::Api)
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "quantity");
        assert!(reason.contains("asset PC-1"), "{reason}");
        assert!(reason.contains("at least 1"), "{reason}");

        let mut role: StructureRole =
            record(&[("key", "R-1"), ("kind", "経営層"), ("title", "院長")]);
        role.business_email = "not an address".into();
        role.title = "   ".into();
        let err = s
            .save_ledger_record(&w.company, &g, &role, None, ChangeSource::Api)
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "title");
        assert!(
            reason.contains("business_email"),
            "every problem named: {reason}"
        );
        assert_eq!(tables(&db).await, before, "nothing written");
        db
    })
    .await;
}

#[tokio::test]
async fn an_unknown_segment_is_refused_naming_it() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        let before = tables(&db).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .save_ledger_record(
                &w.company,
                &g,
                &asset("PC-1", "端末", "SEG-9"),
                None,
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "segment");
        assert!(reason.contains("SEG-9"), "{reason}");
        assert!(reason.contains("asset PC-1"), "{reason}");
        // An investigation of a connection that is not there, likewise.
        let entry: InvestigationEntry = record(&[
            ("key", "I-1"),
            ("connection", "C-404"),
            ("date", "2026-11-20"),
            ("source", "ヒアリング"),
            ("finding", "保守回線あり"),
        ]);
        let err = s
            .save_ledger_record(&w.company, &g, &entry, None, ChangeSource::Form)
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "connection");
        assert!(reason.contains("C-404"), "{reason}");
        assert_eq!(tables(&db).await, before, "nothing written");
        // With the segment it names, the asset is saved.
        save(s, &w.company, w.hospital, &asset("PC-1", "端末", "SEG-1")).await;
        db
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_naming_both_versions() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let first = save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        assert_eq!(first.version, 1);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let second = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("SEG-1", "医療系LAN（本館）"),
                Some(1),
                ChangeSource::Form,
            )
            .await
            .unwrap();
        assert_eq!((second.id, second.version), (first.id, 2));
        let before = tables(&db).await;
        let err = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("SEG-1", "医療系LAN（別館）"),
                Some(1),
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        let StoreError::Conflict(message) = &err else {
            panic!("expected a conflict, got {err:?}");
        };
        assert!(message.contains("version 2"), "{message}");
        assert!(message.contains("version 1"), "{message}");
        // A version given for a record that does not exist is stale too.
        let err = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("SEG-2", "来訪者"),
                Some(3),
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(tables(&db).await, before, "nothing written");
        let stored = read(s, &w.company, w.hospital).await;
        assert_eq!(stored.ledger.segments[0].name, "医療系LAN（本館）");
        db
    })
    .await;
}

#[tokio::test]
async fn saving_identical_content_changes_nothing() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let first = save(s, &w.company, w.hospital, &asset("PC-1", "端末", "")).await;
        let before = tables(&db).await;
        // The same content, spelled differently: normalised to the same.
        let mut again = asset("PC-1", "端末", "");
        again.name = format!("  {}  ", again.name);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let meta = s
            .save_ledger_record(&w.company, &g, &again, Some(1), ChangeSource::Api)
            .await
            .unwrap();
        assert_eq!(meta, first);
        assert_eq!(tables(&db).await, before, "no version, no history row");
        let saved = audited(s, AuditAction::LedgerRecordSaved).await;
        assert!(saved[0].content.detail.contains("unchanged"), "{saved:?}");
        // A real change is a new version.
        let mut changed = asset("PC-1", "端末", "");
        changed.location = "外来受付".into();
        let meta = s
            .save_ledger_record(&w.company, &g, &changed, Some(1), ChangeSource::Api)
            .await
            .unwrap();
        assert_eq!(meta.version, 2);
        db
    })
    .await;
}

#[tokio::test]
async fn a_used_segment_is_not_deleted_an_unused_one_is_deleted_softly_and_restored() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        save(s, &w.company, w.hospital, &segment("SEG-2", "来訪者LAN")).await;
        save(s, &w.company, w.hospital, &asset("PC-1", "端末", "SEG-1")).await;
        save(s, &w.company, w.hospital, &asset("PC-2", "端末", "SEG-1")).await;
        let before = tables(&db).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .delete_ledger_record(
                &w.company,
                &g,
                RecordKind::Segment,
                &key("SEG-1"),
                None,
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        let StoreError::Conflict(message) = &err else {
            panic!("expected a refusal, got {err:?}");
        };
        assert!(message.contains("asset PC-1 (segment)"), "{message}");
        assert!(message.contains("asset PC-2 (segment)"), "{message}");
        assert_eq!(tables(&db).await, before, "nothing written");

        // A stale version is refused before anything.
        let err = s
            .delete_ledger_record(
                &w.company,
                &g,
                RecordKind::Segment,
                &key("SEG-2"),
                Some(7),
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let deleted = s
            .delete_ledger_record(
                &w.company,
                &g,
                RecordKind::Segment,
                &key("SEG-2"),
                Some(1),
                ChangeSource::Form,
            )
            .await
            .unwrap();
        assert_eq!(deleted.version, 2);
        let stored = read(s, &w.company, w.hospital).await;
        let segments: Vec<&str> = stored.ledger.segments.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(segments, ["SEG-1"]);
        assert!(stored.meta_of(RecordKind::Segment, &key("SEG-2")).is_none());
        // Nothing is lost: the row stays, the history keeps what it was.
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ledger_records WHERE record_key = 'SEG-2' AND deleted_at IS NOT NULL")
                .await,
            1
        );
        let rg = grant(s, &w.company, w.hospital, Access::Read).await;
        let history = s
            .ledger_history(
                &w.company,
                &rg,
                &HistoryFilter {
                    kind: Some(RecordKind::Segment),
                    key: Some(key("SEG-2")),
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(history[0].action, ChangeAction::Deleted);
        assert_eq!(history[0].before.as_ref().unwrap()["name"], "来訪者LAN");
        assert_eq!(history[0].after, None);
        assert_eq!(audited(s, AuditAction::LedgerRecordDeleted).await.len(), 1);
        // Deleting it again: it is not there.
        let err = s
            .delete_ledger_record(
                &w.company,
                &g,
                RecordKind::Segment,
                &key("SEG-2"),
                None,
                ChangeSource::Form,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

        // Saving the key again restores it, in its old place.
        let restored = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("SEG-2", "来訪者LAN（新）"),
                Some(2),
                ChangeSource::Form,
            )
            .await
            .unwrap();
        assert_eq!((restored.id, restored.version), (deleted.id, 3));
        let stored = read(s, &w.company, w.hospital).await;
        let segments: Vec<&str> = stored.ledger.segments.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(segments, ["SEG-1", "SEG-2"]);
        let history = s
            .ledger_history(&w.company, &rg, &HistoryFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(history[0].action, ChangeAction::Restored);
        assert_eq!(history[0].before, None);
        assert_eq!(history[0].after.as_ref().unwrap()["name"], "来訪者LAN（新）");
        db
    })
    .await;
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_importing_again_changes_nothing() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let before = tables(&db).await;
        // One bad reference among good rows: nothing is written.
        let err = s
            .import_ledger_records(
                &w.company,
                &g,
                vec![
                    asset("PC-1", "端末", "SEG-1"),
                    asset("PC-2", "端末", "SEG-404"),
                    asset("PC-3", "端末", "SEG-1"),
                ],
                ChangeSource::Import,
            )
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "segment");
        assert!(
            reason.contains("PC-2") && reason.contains("SEG-404"),
            "{reason}"
        );
        // A key twice in one import, likewise.
        let err = s
            .import_ledger_records(
                &w.company,
                &g,
                vec![asset("PC-1", "端末", "SEG-1"), asset("PC-1", "サーバ", "")],
                ChangeSource::Import,
            )
            .await
            .unwrap_err();
        assert_eq!(invalid(&err).0, "key");
        assert_eq!(tables(&db).await, before, "nothing written");
        assert!(audited(s, AuditAction::LedgerImported).await.is_empty());

        // Rows may point at each other within the import.
        let rows = vec![
            asset("SYS-1", "システム", ""),
            record::<Asset>(&[
                ("key", "PC-1"),
                ("kind", "端末"),
                ("name", "受付端末"),
                ("system", "SYS-1"),
                ("segment", "SEG-1"),
            ]),
            asset("PC-2", "端末", "SEG-1"),
        ];
        let outcome = s
            .import_ledger_records(&w.company, &g, rows.clone(), ChangeSource::Import)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ImportOutcome {
                created: 3,
                updated: 0,
                unchanged: 0
            }
        );
        let after_first = tables(&db).await;
        let again = s
            .import_ledger_records(&w.company, &g, rows.clone(), ChangeSource::Import)
            .await
            .unwrap();
        assert_eq!(
            again,
            ImportOutcome {
                created: 0,
                updated: 0,
                unchanged: 3
            }
        );
        assert_eq!(tables(&db).await, after_first, "no version, no history");
        let stored = read(s, &w.company, w.hospital).await;
        assert!(stored.meta.values().all(|m| m.version == 1));

        let mut changed = rows.clone();
        changed[2].location = "2階病棟".into();
        let third = s
            .import_ledger_records(&w.company, &g, changed, ChangeSource::Import)
            .await
            .unwrap();
        assert_eq!(
            third,
            ImportOutcome {
                created: 0,
                updated: 1,
                unchanged: 2
            }
        );
        let imports = audited(s, AuditAction::LedgerImported).await;
        assert_eq!(imports.len(), 3, "one audit record per import");
        assert!(
            imports[1]
                .content
                .detail
                .contains("created=0 updated=0 unchanged=3"),
            "{imports:?}"
        );
        let rg = grant(s, &w.company, w.hospital, Access::Read).await;
        let history = s
            .ledger_history(&w.company, &rg, &HistoryFilter::default(), 100)
            .await
            .unwrap();
        assert_eq!(history.len(), 1 + 3 + 1);
        assert!(
            history[..4]
                .iter()
                .all(|c| c.source == ChangeSource::Import)
        );
        db
    })
    .await;
}

#[tokio::test]
async fn the_ledger_as_of_a_moment_is_rebuilt_from_history() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
        let start = mamori_store::now_ms() - 1;
        pause().await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        save(s, &w.company, w.hospital, &segment("SEG-2", "来訪者LAN")).await;
        pause().await;
        let cut = mamori_store::now_ms();
        pause().await;
        save(
            s,
            &w.company,
            w.hospital,
            &segment("SEG-1", "医療系LAN（更新）"),
        )
        .await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        s.delete_ledger_record(
            &w.company,
            &g,
            RecordKind::Segment,
            &key("SEG-2"),
            None,
            ChangeSource::Form,
        )
        .await
        .unwrap();
        s.confirm_ledger_record(&w.company, &g, RecordKind::Segment, &key("SEG-1"))
            .await
            .unwrap();
        save(s, &w.company, w.hospital, &segment("SEG-3", "保守用")).await;

        let rg = grant(s, &w.company, w.hospital, Access::Read).await;
        let then = s.ledger_as_of(&w.company, &rg, cut).await.unwrap();
        assert_eq!(
            then.segments,
            vec![segment("SEG-1", "医療系LAN"), segment("SEG-2", "来訪者LAN")]
        );
        let now = s
            .ledger_as_of(&w.company, &rg, mamori_store::now_ms() + 1)
            .await
            .unwrap();
        assert_eq!(
            now.segments,
            vec![
                segment("SEG-1", "医療系LAN（更新）"),
                segment("SEG-3", "保守用")
            ]
        );
        assert_eq!(now, read(s, &w.company, w.hospital).await.ledger);
        let empty = s.ledger_as_of(&w.company, &rg, start).await.unwrap();
        assert_eq!(empty, Ledger::default());
        let reads = audited(s, AuditAction::HospitalDataRead).await;
        assert!(
            reads
                .iter()
                .any(|r| r.content.detail == format!("ledger as of {cut}")),
            "{reads:?}"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn history_is_newest_first_with_before_after_and_who() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(s, &w.company, w.hospital, &segment("SEG-1", "医療系LAN")).await;
        save(
            s,
            &w.staff,
            w.hospital,
            &segment("SEG-1", "医療系LAN（本館）"),
        )
        .await;
        save(s, &w.staff, w.hospital, &asset("PC-1", "端末", "SEG-1")).await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let confirmed = s
            .confirm_ledger_record(&w.company, &g, RecordKind::Segment, &key("SEG-1"))
            .await
            .unwrap();
        assert_eq!(confirmed.version, 2, "a confirmation changes no content");
        assert!(confirmed.confirmed_at_ms.is_some());
        assert_eq!(confirmed.confirmed_by, Some(w.company_account));

        let rg = grant(s, &w.secretariat, w.hospital, Access::Read).await;
        let all = s
            .ledger_history(&w.secretariat, &rg, &HistoryFilter::default(), 100)
            .await
            .unwrap();
        let actions: Vec<(RecordKind, ChangeAction)> =
            all.iter().map(|c| (c.kind, c.action)).collect();
        assert_eq!(
            actions,
            [
                (RecordKind::Segment, ChangeAction::Confirmed),
                (RecordKind::Asset, ChangeAction::Created),
                (RecordKind::Segment, ChangeAction::Updated),
                (RecordKind::Segment, ChangeAction::Created),
            ]
        );
        assert!(all.windows(2).all(|p| p[0].at_ms >= p[1].at_ms));
        let update = &all[2];
        assert_eq!(update.version, 2);
        assert_eq!(update.before.as_ref().unwrap()["name"], "医療系LAN");
        assert_eq!(update.after.as_ref().unwrap()["name"], "医療系LAN（本館）");
        assert_eq!(update.actor_name.as_deref(), Some("h@example.jp さん"));
        assert_eq!(all[3].before, None);
        assert_eq!(all[3].actor_name.as_deref(), Some("a@example.jp さん"));
        assert_eq!(all[0].source, ChangeSource::WalkThrough);

        let segment_only = s
            .ledger_history(
                &w.secretariat,
                &rg,
                &HistoryFilter {
                    kind: Some(RecordKind::Segment),
                    key: None,
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(segment_only.len(), 3);
        let limited = s
            .ledger_history(&w.secretariat, &rg, &HistoryFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(limited, all[..1].to_vec());
        assert_eq!(
            audited(s, AuditAction::LedgerRecordConfirmed).await.len(),
            1
        );

        // The ledger shows the confirmation until the content changes.
        let stored = read(s, &w.company, w.hospital).await;
        let meta = stored.meta_of(RecordKind::Segment, &key("SEG-1")).unwrap();
        assert_eq!(meta.confirmed_at_ms, confirmed.confirmed_at_ms);
        save(
            s,
            &w.company,
            w.hospital,
            &segment("SEG-1", "医療系LAN（改）"),
        )
        .await;
        let stored = read(s, &w.company, w.hospital).await;
        let meta = stored.meta_of(RecordKind::Segment, &key("SEG-1")).unwrap();
        assert_eq!((meta.version, meta.confirmed_at_ms), (3, None));
        db
    })
    .await;
}

async fn cpe_rows(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) FROM ledger_cpes").await
}

#[tokio::test]
async fn cpe_rows_follow_the_assets_cpes() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let mut fw: Asset = record(&[
            ("key", "FW-01"),
            ("kind", "ファイアウォール"),
            ("name", "境界FW"),
            (
                "cpes",
                "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*\ncpe:/h:fortinet:fortigate_60f",
            ),
        ]);
        save(s, &w.company, w.hospital, &fw).await;
        assert_eq!(cpe_rows(&db).await, 2);
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM ledger_cpes WHERE vendor = 'fortinet' AND product = 'fortios' AND hospital_id = {}",
                w.hospital
            ))
            .await,
            1
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ledger_cpes WHERE product = 'fortigate_60f' AND cpe = 'cpe:2.3:h:fortinet:fortigate_60f:*:*:*:*:*:*:*:*'")
                .await,
            1,
            "kept in canonical form"
        );
        fw.cpes = vec!["cpe:2.3:o:fortinet:fortios:7.2.5:*:*:*:*:*:*:*".into()];
        save(s, &w.company, w.hospital, &fw).await;
        assert_eq!(cpe_rows(&db).await, 1);
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ledger_cpes WHERE cpe LIKE '%7.2.5%'").await,
            1
        );
        // Another asset's rows are its own.
        save(s, &w.company, w.hospital, &asset("PC-1", "端末", "")).await;
        assert_eq!(cpe_rows(&db).await, 1);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        s.delete_ledger_record(
            &w.company,
            &g,
            RecordKind::Asset,
            &key("FW-01"),
            None,
            ChangeSource::Form,
        )
        .await
        .unwrap();
        assert_eq!(cpe_rows(&db).await, 0);
        // Restored, its names come back.
        save(s, &w.company, w.hospital, &fw).await;
        assert_eq!(cpe_rows(&db).await, 1);
        db
    })
    .await;
}

#[tokio::test]
async fn only_the_secretariat_keeps_the_catalogue_and_everyone_but_vendors_reads_it() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let before = tables(&db).await;
        for who in [&w.company, &w.staff] {
            let err = s
                .save_device_model(who, &model("FG-60F"), None)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
            let err = s
                .import_device_models(who, vec![model("FG-60F")])
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
            let err = s.models_in_use(who).await.unwrap_err();
            assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
        }
        assert_eq!(tables(&db).await, before, "nothing written");

        let saved = s
            .save_device_model(&w.secretariat, &model("FG-60F"), None)
            .await
            .unwrap();
        assert_eq!(saved.version, 1);
        let mut changed = model("FG-60F");
        changed.disclosure = "https://example.jp/mds/fg60f.pdf".into();
        let err = s
            .save_device_model(&w.secretariat, &changed, Some(2))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let updated = s
            .save_device_model(&w.secretariat, &changed, Some(1))
            .await
            .unwrap();
        assert_eq!(updated.version, 2);
        // Identical again: nothing changes.
        let same = s
            .save_device_model(&w.secretariat, &changed, Some(2))
            .await
            .unwrap();
        assert_eq!(same.version, 2);
        let mut bad = model("BAD");
        bad.cpes = vec!["not a cpe".into()];
        let (field, _) = invalid(
            &s.save_device_model(&w.secretariat, &bad, None)
                .await
                .unwrap_err(),
        );
        assert_eq!(field, "cpes");

        // Everyone who reads a ledger reads the catalogue.
        for who in [&w.company, &w.staff, &w.stranger, &w.secretariat] {
            let models = s.device_models(who).await.unwrap();
            assert_eq!(models.len(), 1);
            assert_eq!(models[0].model, changed);
        }
        let one = s.device_model(&w.staff, &key("FG-60F")).await.unwrap();
        assert_eq!(one.version, 2);
        let vendor = AuditContext::for_actor(
            Actor {
                account: AccountId(9_999),
                org: OrgId(9_999),
                org_kind: OrgKind::Vendor,
                role: Role::Member,
            },
            "vendor@example.jp",
            None,
        );
        let err = s.device_models(&vendor).await.unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");

        // An import is idempotent.
        let outcome = s
            .import_device_models(&w.secretariat, vec![changed.clone(), model("FG-40F")])
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ImportOutcome {
                created: 1,
                updated: 0,
                unchanged: 1
            }
        );
        let after = tables(&db).await;
        let again = s
            .import_device_models(&w.secretariat, vec![changed.clone(), model("FG-40F")])
            .await
            .unwrap();
        assert_eq!(again.unchanged, 2);
        assert_eq!(tables(&db).await, after);
        assert_eq!(audited(s, AuditAction::CatalogueModelSaved).await.len(), 2);
        assert_eq!(audited(s, AuditAction::CatalogueImported).await.len(), 2);
        assert_eq!(
            db.count("SELECT COUNT(*) FROM device_model_history").await,
            3
        );
        db
    })
    .await;
}

#[tokio::test]
async fn an_asset_points_only_to_a_catalogue_model_and_a_model_in_use_stays() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let mut vpn = asset("VPN-1", "VPN装置", "");
        vpn.model_ref = Some(key("FG-60F"));
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let before = tables(&db).await;
        let err = s
            .save_ledger_record(&w.company, &g, &vpn, None, ChangeSource::Form)
            .await
            .unwrap_err();
        let (field, reason) = invalid(&err);
        assert_eq!(field, "model_ref");
        assert!(reason.contains("FG-60F"), "{reason}");
        assert_eq!(tables(&db).await, before, "nothing written");

        s.save_device_model(&w.secretariat, &model("FG-60F"), None)
            .await
            .unwrap();
        s.save_ledger_record(&w.company, &g, &vpn, None, ChangeSource::Form)
            .await
            .unwrap();
        // The other hospital's asset points to it too.
        let mut other = asset("GW", "VPN装置", "");
        other.model_ref = Some(key("FG-60F"));
        save(s, &w.other_staff, w.other_hospital, &other).await;
        let stored = read(s, &w.company, w.hospital).await;
        assert!(stored.ledger.catalogue_keys.contains(&key("FG-60F")));

        let in_use = s.models_in_use(&w.secretariat).await.unwrap();
        assert_eq!(in_use.get(&key("FG-60F")), Some(&2));
        let before = tables(&db).await;
        let err = s
            .delete_device_model(&w.secretariat, &key("FG-60F"))
            .await
            .unwrap_err();
        let StoreError::Conflict(message) = &err else {
            panic!("expected a refusal, got {err:?}");
        };
        assert!(message.contains("2 asset(s) in 2 hospital(s)"), "{message}");
        assert_eq!(tables(&db).await, before, "nothing written");
        let err = s
            .delete_device_model(&w.company, &key("FG-60F"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");

        // Once no live asset points to it, it goes (softly).
        s.delete_ledger_record(
            &w.company,
            &g,
            RecordKind::Asset,
            &key("VPN-1"),
            None,
            ChangeSource::Form,
        )
        .await
        .unwrap();
        other.model_ref = None;
        save(s, &w.other_staff, w.other_hospital, &other).await;
        assert!(s.models_in_use(&w.secretariat).await.unwrap().is_empty());
        s.delete_device_model(&w.secretariat, &key("FG-60F"))
            .await
            .unwrap();
        assert!(s.device_models(&w.company).await.unwrap().is_empty());
        let err = s
            .device_model(&w.company, &key("FG-60F"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
        assert_eq!(
            audited(s, AuditAction::CatalogueModelDeleted).await.len(),
            1
        );
        // Restoring the deleted asset now fails: its model is gone.
        let err = s
            .save_ledger_record(&w.company, &g, &vpn, None, ChangeSource::Form)
            .await
            .unwrap_err();
        assert_eq!(invalid(&err).0, "model_ref");
        db
    })
    .await;
}

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0xFF, 0xD9,
];

#[tokio::test]
async fn photos_are_images_of_live_records_read_only_with_the_hospital() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        save(
            s,
            &w.company,
            w.hospital,
            &asset("FW-01", "ファイアウォール", ""),
        )
        .await;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let before = tables(&db).await;
        for (name, data) in [
            ("rack.pdf", b"%PDF-1.4\n%%EOF\n".as_slice()),
            ("rack.jpg", b"<html>not a photo</html>".as_slice()),
            ("rack.jpg", b"".as_slice()),
        ] {
            let err = s
                .add_ledger_photo(
                    &w.company,
                    &g,
                    RecordKind::Asset,
                    &key("FW-01"),
                    NewFile {
                        name: name.into(),
                        data: data.to_vec(),
                    },
                    "",
                )
                .await
                .unwrap_err();
            assert_eq!(invalid(&err).0, "file", "{name}");
        }
        let err = s
            .add_ledger_photo(
                &w.company,
                &g,
                RecordKind::Asset,
                &key("NOPE"),
                NewFile {
                    name: "rack.jpg".into(),
                    data: JPEG.to_vec(),
                },
                "",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
        assert_eq!(tables(&db).await, before, "nothing written");

        let photo = s
            .add_ledger_photo(
                &w.company,
                &g,
                RecordKind::Asset,
                &key("FW-01"),
                NewFile {
                    name: "IMG_0042.JPG".into(),
                    data: JPEG.to_vec(),
                },
                "サーバ室ラック 上段",
            )
            .await
            .unwrap();
        assert_eq!(photo.file.content_type, "image/jpeg");
        assert_eq!(photo.caption, "サーバ室ラック 上段");
        assert_eq!(audited(s, AuditAction::LedgerPhotoAdded).await.len(), 1);

        let rg = grant(s, &w.staff, w.hospital, Access::Read).await;
        let photos = s
            .ledger_photos(&w.staff, &rg, RecordKind::Asset, &key("FW-01"))
            .await
            .unwrap();
        assert_eq!(photos, vec![photo.clone()]);
        let (file, data) = s.ledger_photo_file(&w.staff, &rg, photo.id).await.unwrap();
        assert_eq!(data, JPEG);
        assert_eq!(file, photo.file);
        let reads = audited(s, AuditAction::FileRead).await;
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].content.hospital, Some(w.hospital));
        // Another hospital's grant does not reach this photo.
        let og = grant(s, &w.other_staff, w.other_hospital, Access::Read).await;
        let err = s
            .ledger_photo_file(&w.other_staff, &og, photo.id)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
        assert_eq!(audited(s, AuditAction::FileRead).await.len(), 1);
        db
    })
    .await;
}

#[tokio::test]
async fn a_whole_ledger_is_imported_at_once_with_references_between_its_kinds() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        // A segment and the assets in it arrive together.
        let mut incoming = Ledger::default();
        incoming.segments.push(segment("MED", "医療系LAN"));
        incoming.assets.push(asset("SV-1", "サーバ", "MED"));
        incoming.assets.push(asset("SW-1", "スイッチ", "MED"));
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let outcome = s
            .import_ledger(&w.company, &g, &incoming, ChangeSource::Import)
            .await
            .expect("imported");
        assert_eq!(
            outcome,
            ImportOutcome {
                created: 3,
                updated: 0,
                unchanged: 0
            }
        );
        let history_rows = db.count("SELECT COUNT(*) FROM ledger_history").await;
        // Again: nothing changes, no history is written.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let again = s
            .import_ledger(&w.company, &g, &incoming, ChangeSource::Import)
            .await
            .expect("imported again");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ledger_history").await,
            history_rows
        );
        // One broken reference anywhere: nothing of the whole import is written.
        let mut broken = Ledger::default();
        broken.segments.push(segment("ADM", "事務系LAN"));
        broken.assets.push(asset("PC-1", "端末", "NOWHERE"));
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .import_ledger(&w.company, &g, &broken, ChangeSource::Import)
            .await
            .expect_err("refused");
        assert_eq!(invalid(&err).0, "segment");
        let stored = read(s, &w.company, w.hospital).await;
        assert_eq!(stored.ledger.segments.len(), 1, "ADM was not written");
        assert_eq!(stored.ledger.assets.len(), 2);
        // Another hospital's staff cannot import into this ledger.
        assert!(
            s.authorize(
                &w.other_staff,
                w.hospital,
                HospitalData::Ledger,
                Access::Write
            )
            .await
            .is_err()
        );
        db
    })
    .await;
}

#[tokio::test]
async fn an_upload_is_kept_and_read_back_only_with_its_hospital() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let kept = s
            .keep_ledger_upload(
                &w.company,
                &g,
                NewFile {
                    name: "台帳.csv".into(),
                    data: "資産番号,種別,名称\nSV-1,サーバ,a\n".as_bytes().to_vec(),
                },
            )
            .await
            .expect("kept");
        assert_eq!(kept.name, "台帳.csv");
        let g = grant(s, &w.staff, w.hospital, Access::Read).await;
        let (file, data) = s.ledger_upload(&w.staff, &g, kept.id).await.expect("read");
        assert_eq!(file.id, kept.id);
        assert!(data.starts_with("資産番号".as_bytes()));
        // The upload's id with another hospital's grant is not found.
        let g = grant(s, &w.other_staff, w.other_hospital, Access::Read).await;
        assert!(matches!(
            s.ledger_upload(&w.other_staff, &g, kept.id).await,
            Err(StoreError::NotFound { .. })
        ));
        db
    })
    .await;
}

#[tokio::test]
async fn version_zero_creates_and_never_overwrites() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let created = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("MED", "医療系LAN"),
                Some(0),
                ChangeSource::Form,
            )
            .await
            .expect("a new key is free");
        assert_eq!(created.version, 1);
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let err = s
            .save_ledger_record(
                &w.company,
                &g,
                &segment("MED", "別の名前"),
                Some(0),
                ChangeSource::Form,
            )
            .await
            .expect_err("the key is taken");
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("already exists")),
            "{err:?}"
        );
        let stored = read(s, &w.company, w.hospital).await;
        assert_eq!(stored.ledger.segments[0].name, "医療系LAN");
        db
    })
    .await;
}
