//! Hearings, confirmed answers, material requests and vendor inquiries,
//! run on SQLite and (when configured) PostgreSQL.

use mamori_domain::EngagementId;
use mamori_domain::audit::AuditAction;
use mamori_domain::checklist::{
    AnswerValue, CellKey, Confirmation, Framework, RequestParty, RequestStatus, Scope,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::schedule::DeadlineKind;
use mamori_store::testing::{self, TestDb};
use mamori_store::{
    AuditContext, AuditFilter, NewFile, NewHearing, NewInquiry, NewRequest, NotificationKind,
    Participant, Store, StoreError,
};
use time::Date;
use time::macros::date;

const FRAMEWORK: &str = r#"
key = "test-r6"
title_ja = "テスト用チェックリスト"
edition_ja = "令和6年度版"
fiscal_year = 2024
answer_style = "yes-no-dated"

[[forms]]
key = "hospital"
audience = "hospital"
title_ja = "医療機関確認用"

[[forms.sections]]
number = "0"
title_ja = "医療情報システムの有無"
[[forms.sections.items]]
number = "0"
text_ja = "医療情報システムを導入、運用している。"
gate = true
scope = "organisation"
provenance = "verbatim"

[[forms.sections]]
number = "2"
title_ja = "医療情報システムの管理・運用"
[[forms.sections.items]]
number = "2-(4)"
text_ja = "アクセス利用権限を設定している。"
provenance = "quoted"
cells = [{ scope = "server", required_fy = 2023 }, { scope = "terminal-pc", required_fy = 2024 }]
[[forms.sections.items]]
number = "2-(9)"
text_ja = "不要なサービスを停止している。"
provenance = "inferred"
required_fy = 2024

[[forms]]
key = "vendor"
audience = "vendor"
title_ja = "事業者確認用"
[[forms.sections]]
number = "1"
title_ja = "事業者"
[[forms.sections.items]]
number = "V-1"
text_ja = "脆弱性情報を提供している。"
provenance = "verbatim"
scope = "organisation"
"#;

/// A programme's own items: one asked of hospital respondents only.
const SUPPLEMENT: &str = r#"
key = "programme-extra"
title_ja = "プログラム追加項目"
edition_ja = "2026"
answer_style = "yes-no-dated"

[[forms]]
key = "extra"
audience = "hospital"
title_ja = "追加項目"
[[forms.sections]]
number = "P"
title_ja = "追加"
[[forms.sections.items]]
number = "P-1"
text_ja = "バックアップを別の場所に保管している。"
provenance = "programme"
scope = "organisation"
forms = ["hospital"]
[[forms.sections.items]]
number = "P-2"
text_ja = "事業者との連絡先を確認している。"
provenance = "programme"
scope = "organisation"
forms = ["vendor"]
"#;

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Stores a framework behind the store's back (the checklist operations
/// are another module's) and returns its id.
async fn add_framework(db: &TestDb, toml: &str) -> i64 {
    let framework = Framework::from_toml(toml).expect("test framework");
    db.execute_raw(&format!(
        "INSERT INTO checklist_frameworks (key, version, title_ja, edition_ja, origin, definition, sha256, created_at) VALUES ({}, 1, {}, {}, 'builtin', {}, 'test', 0)",
        sql_text(&framework.key),
        sql_text(&framework.title_ja),
        sql_text(&framework.edition_ja),
        sql_text(&framework.to_json()),
    ))
    .await
    .expect("framework");
    db.count(&format!(
        "SELECT MAX(id) FROM checklist_frameworks WHERE key = {}",
        sql_text(&framework.key)
    ))
    .await
}

async fn add_respondent(
    db: &TestDb,
    engagement: EngagementId,
    framework: i64,
    form: &str,
    name: &str,
) -> i64 {
    db.execute_raw(&format!(
        "INSERT INTO checklist_respondents (engagement_id, framework_id, form_key, role, name, created_at) VALUES ({engagement}, {framework}, '{form}', 'administrator', {}, 0)",
        sql_text(name)
    ))
    .await
    .expect("respondent");
    db.count("SELECT MAX(id) FROM checklist_respondents").await
}

struct World {
    secretariat: AuditContext,
    company: AuditContext,
    company_account: mamori_domain::AccountId,
    secretariat_account: mamori_domain::AccountId,
    hospital: AuditContext,
    hospital_account: mamori_domain::AccountId,
    /// A company whose own engagement is not contracted yet.
    waiting: AuditContext,
    /// A company with no engagement of this hospital.
    stranger: AuditContext,
    engagement: EngagementId,
    /// The waiting company's engagement (another hospital).
    waiting_engagement: EngagementId,
    framework: i64,
    supplement: i64,
    respondent: i64,
    vendor_respondent: i64,
    /// A respondent of the other engagement.
    foreign_respondent: i64,
}

fn ctx(account: &mamori_store::Account) -> AuditContext {
    AuditContext::for_actor(account.actor(), account.email.clone(), None)
}

async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2026 - 12 - 01));
    let sec = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let waiting = testing::add_org(s, OrgKind::SurveyCompany, "調査B社").await;
    let stranger = testing::add_org(s, OrgKind::SurveyCompany, "調査C社").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let other = testing::add_org(s, OrgKind::Hospital, "山間病院").await;
    let sec_account = testing::add_account(s, sec, "sec@example.jp", Role::Member).await;
    let company_account = testing::add_account(s, company, "a@example.jp", Role::Member).await;
    let waiting_account = testing::add_account(s, waiting, "b@example.jp", Role::Member).await;
    let stranger_account = testing::add_account(s, stranger, "c@example.jp", Role::Member).await;
    let hospital_account = testing::add_account(s, hospital, "h@example.jp", Role::Member).await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    let e =
        testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying).await;
    let w = testing::add_engagement(
        s,
        programme,
        other,
        waiting,
        EngagementState::IntentConfirmed,
    )
    .await;
    let framework = add_framework(db, FRAMEWORK).await;
    let supplement = add_framework(db, SUPPLEMENT).await;
    db.execute_raw(&format!(
        "UPDATE programmes SET checklist_framework_id = {framework}, checklist_supplement_id = {supplement} WHERE id = {programme}"
    ))
    .await
    .expect("programme framework");
    World {
        secretariat: ctx(&sec_account),
        secretariat_account: sec_account.id,
        company: ctx(&company_account),
        company_account: company_account.id,
        hospital: ctx(&hospital_account),
        hospital_account: hospital_account.id,
        waiting: ctx(&waiting_account),
        stranger: ctx(&stranger_account),
        engagement: e.id,
        waiting_engagement: w.id,
        framework,
        supplement,
        respondent: add_respondent(db, e.id, framework, "hospital", "情報 太郎").await,
        vendor_respondent: add_respondent(db, e.id, framework, "vendor", "業者 花子").await,
        foreign_respondent: add_respondent(db, w.id, framework, "hospital", "他院 次郎").await,
    }
}

/// The rows of every table this module writes.
async fn tables(db: &TestDb) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "hearings",
        "hearing_participants",
        "checklist_confirmations",
        "material_requests",
        "vendor_inquiries",
        "files",
    ] {
        counts.push(db.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

async fn audited(s: &Store, action: AuditAction) -> Vec<mamori_domain::audit::AuditRecord> {
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

fn hearing(held_on: Date, participants: Vec<Participant>) -> NewHearing {
    NewHearing {
        held_on,
        participants,
        notes: "初回ヒヤリング".into(),
    }
}

fn respondent(id: i64, minutes: u32) -> Participant {
    Participant {
        respondent_id: Some(id),
        name: String::new(),
        minutes,
    }
}

fn named(name: &str, minutes: u32) -> Participant {
    Participant {
        respondent_id: None,
        name: name.into(),
        minutes,
    }
}

fn pdf() -> NewFile {
    NewFile {
        name: "構成図.pdf".into(),
        data: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
    }
}

fn invalid_field(err: &StoreError) -> &'static str {
    match err {
        StoreError::Invalid(mamori_domain::DomainError::Invalid { field, .. }) => field,
        other => panic!("expected a refused field, got {other:?}"),
    }
}

#[tokio::test]
async fn hearings_are_recorded_by_the_contracted_company_or_the_secretariat() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let today = s.today();
        let h = s
            .record_hearing(
                &w.company,
                w.engagement,
                &hearing(
                    today,
                    vec![respondent(w.respondent, 120), named("ベンダーSE 鈴木", 45)],
                ),
            )
            .await
            .unwrap();
        assert_eq!(h.engagement, w.engagement);
        assert_eq!(h.participants.len(), 2);
        // A respondent's name is taken from the respondent.
        assert_eq!(h.participants[0].name, "情報 太郎");
        assert_eq!(h.participants[0].respondent_id, Some(w.respondent));
        assert_eq!(h.participants[1].minutes, 45);
        assert_eq!(h.created_by, Some(w.company_account));
        s.record_hearing(
            &w.secretariat,
            w.engagement,
            &hearing(today, vec![named("事務長", 30)]),
        )
        .await
        .unwrap();

        let before = tables(&db).await;
        // Hospital staff answer; they do not record hearings.
        let err = s
            .record_hearing(
                &w.hospital,
                w.engagement,
                &hearing(today, vec![named("院長", 30)]),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        // A company whose engagement is not contracted, and one with none.
        let err = s
            .record_hearing(
                &w.waiting,
                w.waiting_engagement,
                &hearing(today, vec![named("院長", 30)]),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err}");
        let err = s
            .record_hearing(
                &w.stranger,
                w.engagement,
                &hearing(today, vec![named("院長", 30)]),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err}");
        // Bad input, each named.
        let tomorrow = today.next_day().unwrap();
        for (new, field) in [
            (hearing(tomorrow, vec![named("院長", 30)]), "held_on"),
            (hearing(today, vec![]), "participants"),
            (hearing(today, vec![named("院長", 0)]), "minutes"),
            (hearing(today, vec![named("院長", 601)]), "minutes"),
            (hearing(today, vec![named("  ", 30)]), "participants"),
            (
                hearing(today, vec![respondent(w.foreign_respondent, 30)]),
                "participants",
            ),
            (
                hearing(
                    today,
                    vec![respondent(w.respondent, 30), respondent(w.respondent, 20)],
                ),
                "participants",
            ),
        ] {
            let err = s
                .record_hearing(&w.company, w.engagement, &new)
                .await
                .unwrap_err();
            assert_eq!(invalid_field(&err), field, "{err}");
        }
        assert_eq!(tables(&db).await, before, "refusals write nothing");
        assert_eq!(audited(s, AuditAction::HearingRecorded).await.len(), 2);
        assert!(!audited(s, AuditAction::AccessDenied).await.is_empty());

        // Read by the parties, not by others; each read audited.
        let reads = audited(s, AuditAction::HospitalDataRead).await.len();
        let listed = s.hearings(&w.hospital, w.engagement).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0], h);
        assert_eq!(s.hearings(&w.company, w.engagement).await.unwrap().len(), 2);
        assert!(audited(s, AuditAction::HospitalDataRead).await.len() >= reads + 2);
        for who in [&w.stranger, &w.waiting] {
            let err = s.hearings(who, w.engagement).await.unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{err}");
        }
        db
    })
    .await;
}

#[tokio::test]
async fn confirmations_latest_wins_and_open_items_carry_over() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let first_day = s.today();
        let first = s
            .record_hearing(
                &w.company,
                w.engagement,
                &hearing(first_day, vec![respondent(w.respondent, 120)]),
            )
            .await
            .unwrap();
        let yes = |open| Confirmation {
            value: Some(AnswerValue::Yes),
            open,
        };
        let open = Confirmation {
            value: None,
            open: true,
        };
        let server = CellKey::new("2-(4)", Scope::Server);
        let pc = CellKey::new("2-(4)", Scope::TerminalPc);
        let gate = CellKey::new("0", Scope::Organisation);
        let services = CellKey::new("2-(9)", Scope::WholeSystem);
        let extra = CellKey::new("P-1", Scope::Organisation);
        let stored = s
            .confirm_answers(
                &w.company,
                first.id,
                w.respondent,
                &[
                    (gate.clone(), w.framework, yes(false), String::new()),
                    (server.clone(), w.framework, yes(false), "確認済み".into()),
                    (
                        pc.clone(),
                        w.framework,
                        open.clone(),
                        "端末の台帳待ち".into(),
                    ),
                    (extra.clone(), w.supplement, yes(false), String::new()),
                ],
            )
            .await
            .unwrap();
        assert_eq!(stored, 4);
        let open_now = s.open_items(&w.company, w.engagement).await.unwrap();
        assert_eq!(open_now, vec![(w.respondent, w.framework, pc.clone())]);

        // A week later: the open item is settled, another is left open,
        // and the unchanged cells the page sends back are not stored again.
        s.clock().set_today(date!(2026 - 12 - 08));
        let second = s
            .record_hearing(
                &w.secretariat,
                w.engagement,
                &hearing(s.today(), vec![respondent(w.respondent, 60)]),
            )
            .await
            .unwrap();
        let stored = s
            .confirm_answers(
                &w.secretariat,
                second.id,
                w.respondent,
                &[
                    (gate.clone(), w.framework, yes(false), String::new()),
                    (
                        pc.clone(),
                        w.framework,
                        Confirmation {
                            value: Some(AnswerValue::No),
                            open: false,
                        },
                        String::new(),
                    ),
                    (services.clone(), w.framework, open.clone(), String::new()),
                ],
            )
            .await
            .unwrap();
        assert_eq!(stored, 2);
        assert_eq!(
            db.count("SELECT COUNT(*) FROM checklist_confirmations")
                .await,
            6
        );

        let all = s.confirmations(&w.hospital, w.engagement).await.unwrap();
        let mine = &all[&w.respondent];
        assert_eq!(mine.len(), 5);
        let pc_now = &mine[&(w.framework, pc.clone())];
        assert_eq!(pc_now.value, Some(AnswerValue::No));
        assert!(!pc_now.open);
        assert_eq!(pc_now.hearing_id, second.id);
        assert_eq!(pc_now.held_on, date!(2026 - 12 - 08));
        let gate_now = &mine[&(w.framework, gate.clone())];
        assert_eq!(gate_now.hearing_id, first.id, "unchanged: still the first");
        assert_eq!(mine[&(w.framework, server.clone())].note, "確認済み");
        assert_eq!(
            mine[&(w.supplement, extra.clone())].value,
            Some(AnswerValue::Yes)
        );
        assert_eq!(
            s.open_items(&w.company, w.engagement).await.unwrap(),
            vec![(w.respondent, w.framework, services.clone())]
        );
        assert_eq!(
            audited(s, AuditAction::AnswersConfirmed).await.len(),
            2,
            "one record per confirmation"
        );
        let err = s
            .confirmations(&w.stranger, w.engagement)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err}");
        db
    })
    .await;
}

#[tokio::test]
async fn a_bad_cell_writes_nothing() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let h = s
            .record_hearing(
                &w.company,
                w.engagement,
                &hearing(s.today(), vec![respondent(w.respondent, 90)]),
            )
            .await
            .unwrap();
        let good = (
            CellKey::new("0", Scope::Organisation),
            w.framework,
            Confirmation {
                value: Some(AnswerValue::Yes),
                open: false,
            },
            String::new(),
        );
        let with = |key: CellKey, framework: i64| {
            vec![
                good.clone(),
                (key, framework, good.2.clone(), String::new()),
            ]
        };
        let before = tables(&db).await;
        let cases: Vec<(i64, Vec<_>, &str)> = vec![
            // No such item in the hospital form (it is the vendor form's).
            (
                w.respondent,
                with(CellKey::new("V-1", Scope::Organisation), w.framework),
                "V-1",
            ),
            // The item is not asked for this scope.
            (
                w.respondent,
                with(CellKey::new("2-(9)", Scope::Server), w.framework),
                "2-(9)",
            ),
            // A supplement item asked of vendor respondents only.
            (
                w.respondent,
                with(CellKey::new("P-2", Scope::Organisation), w.supplement),
                "P-2",
            ),
            // A framework that is not the respondent's.
            (
                w.respondent,
                with(CellKey::new("0", Scope::Organisation), 9_999),
                "9999",
            ),
            // The same cell twice.
            (
                w.respondent,
                with(CellKey::new("0", Scope::Organisation), w.framework),
                "twice",
            ),
            // Neither an answer nor left open.
            (
                w.respondent,
                vec![
                    good.clone(),
                    (
                        CellKey::new("2-(9)", Scope::WholeSystem),
                        w.framework,
                        Confirmation {
                            value: None,
                            open: false,
                        },
                        "メモだけ".into(),
                    ),
                ],
                "2-(9)",
            ),
            // The vendor respondent's form has no hospital items: its own
            // cell passes, the second row is named.
            (
                w.vendor_respondent,
                vec![
                    (
                        CellKey::new("V-1", Scope::Organisation),
                        w.framework,
                        good.2.clone(),
                        String::new(),
                    ),
                    (
                        CellKey::new("2-(9)", Scope::WholeSystem),
                        w.framework,
                        good.2.clone(),
                        String::new(),
                    ),
                ],
                "2-(9)",
            ),
        ];
        for (who, rows, named) in cases {
            let err = s
                .confirm_answers(&w.company, h.id, who, &rows)
                .await
                .unwrap_err();
            assert_eq!(invalid_field(&err), "confirmations", "{err}");
            assert!(err.to_string().contains(named), "{named}: {err}");
        }
        let err = s
            .confirm_answers(
                &w.company,
                h.id,
                w.foreign_respondent,
                std::slice::from_ref(&good),
            )
            .await
            .unwrap_err();
        assert_eq!(invalid_field(&err), "respondent", "{err}");
        let err = s
            .confirm_answers(&w.hospital, h.id, w.respondent, std::slice::from_ref(&good))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let err = s
            .confirm_answers(&w.company, 9_999, w.respondent, std::slice::from_ref(&good))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        assert_eq!(tables(&db).await, before, "nothing written");
        assert!(audited(s, AuditAction::AnswersConfirmed).await.is_empty());
        // The vendor respondent's own cell is fine.
        let stored = s
            .confirm_answers(
                &w.company,
                h.id,
                w.vendor_respondent,
                &[(
                    CellKey::new("V-1", Scope::Organisation),
                    w.framework,
                    good.2.clone(),
                    String::new(),
                )],
            )
            .await
            .unwrap();
        assert_eq!(stored, 1);
        db
    })
    .await;
}

fn request(subject: &str, party: RequestParty, vendor: &str, on: Date) -> NewRequest {
    NewRequest {
        hearing_id: None,
        subject: subject.into(),
        party,
        vendor_name: vendor.into(),
        requested_on: on,
        due_on: None,
    }
}

#[tokio::test]
async fn requests_fall_due_lapse_once_and_can_arrive_late() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let day = date!(2026 - 12 - 01);
        let h = s
            .record_hearing(
                &w.company,
                w.engagement,
                &hearing(day, vec![respondent(w.respondent, 120)]),
            )
            .await
            .unwrap();
        let r = s
            .raise_request(
                &w.company,
                w.engagement,
                &NewRequest {
                    hearing_id: Some(h.id),
                    ..request("ネットワーク構成図", RequestParty::Hospital, "", day)
                },
            )
            .await
            .unwrap();
        assert_eq!(r.due_on, date!(2026 - 12 - 08), "a week later");
        assert_eq!(r.status, RequestStatus::Requested);
        assert_eq!(r.hearing_id, Some(h.id));
        let on_time = s
            .raise_request(
                &w.secretariat,
                w.engagement,
                &request("保守契約書", RequestParty::Vendor, "電子カルテ社", day),
            )
            .await
            .unwrap();
        assert_eq!(on_time.vendor_name, "電子カルテ社");
        // Open requests are deadlines of the engagement, for those who may
        // read them.
        let request_deadlines = |deadlines: &[mamori_domain::schedule::Deadline]| {
            deadlines
                .iter()
                .filter(|d| d.kind == DeadlineKind::MaterialRequest)
                .map(|d| d.due)
                .collect::<Vec<_>>()
        };
        let overview = s
            .engagement_overview(&w.company, &Default::default())
            .await
            .unwrap();
        assert_eq!(
            request_deadlines(&overview[0].deadlines),
            vec![date!(2026 - 12 - 08)],
            "one deadline per due day"
        );
        let detail = s.engagement_detail(&w.hospital, w.engagement).await.unwrap();
        assert_eq!(
            request_deadlines(&detail.deadlines),
            vec![date!(2026 - 12 - 08)]
        );

        let before = tables(&db).await;
        let long = "あ".repeat(501);
        for (new, field) in [
            (request("", RequestParty::Hospital, "", day), "subject"),
            (request(&long, RequestParty::Hospital, "", day), "subject"),
            (request("構成図", RequestParty::Vendor, " ", day), "vendor_name"),
            (
                request("構成図", RequestParty::Hospital, "", day.next_day().unwrap()),
                "requested_on",
            ),
            (
                NewRequest {
                    due_on: Some(date!(2026 - 11 - 30)),
                    ..request("構成図", RequestParty::Hospital, "", day)
                },
                "due_on",
            ),
            (
                NewRequest {
                    hearing_id: Some(9_999),
                    ..request("構成図", RequestParty::Hospital, "", day)
                },
                "hearing",
            ),
        ] {
            let err = s
                .raise_request(&w.company, w.engagement, &new)
                .await
                .unwrap_err();
            assert_eq!(invalid_field(&err), field, "{err}");
        }
        let hospital_raises = s
            .raise_request(
                &w.hospital,
                w.engagement,
                &request("構成図", RequestParty::Hospital, "", day),
            )
            .await
            .unwrap_err();
        assert!(matches!(hospital_raises, StoreError::Forbidden(_)));
        let stranger_raises = s
            .raise_request(
                &w.stranger,
                w.engagement,
                &request("構成図", RequestParty::Hospital, "", day),
            )
            .await
            .unwrap_err();
        assert!(matches!(stranger_raises, StoreError::Denied(_)));
        assert_eq!(tables(&db).await, before, "refusals write nothing");

        // Received on its due day: on time.
        s.clock().set_today(date!(2026 - 12 - 08));
        let received = s
            .receive_request(&w.company, on_time.id, s.today(), None, "メールで受領")
            .await
            .unwrap();
        assert_eq!(received.status, RequestStatus::Received);
        assert_eq!(received.lapsed_on, None);
        let status = |list: Vec<mamori_store::MaterialRequest>| {
            list.into_iter()
                .find(|x| x.id == r.id)
                .map(|x| (x.status, x.lapsed_on))
                .unwrap()
        };
        // On the due day still requested; the day after, not submitted by
        // itself, before any lapse is recorded.
        assert_eq!(
            status(s.material_requests(&w.company, w.engagement).await.unwrap()),
            (RequestStatus::Requested, None)
        );
        s.clock().set_today(date!(2026 - 12 - 09));
        assert_eq!(
            status(s.material_requests(&w.hospital, w.engagement).await.unwrap()),
            (RequestStatus::NotSubmitted, None)
        );

        // The periodic check records the lapse, once.
        s.check_deadlines().await.unwrap();
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM material_requests WHERE id = {} AND status = 'not-submitted' AND lapsed_on = '2026-12-09'",
                r.id
            ))
            .await,
            1
        );
        let lapses = audited(s, AuditAction::RequestLapsed).await;
        assert_eq!(lapses.len(), 1);
        assert_eq!(lapses[0].content.target, format!("request:{}", r.id));
        assert_eq!(lapses[0].content.actor_account, None, "the operator's check");
        let lapse_notes = |account| async move {
            s.notifications_for(account, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == NotificationKind::RequestLapsed)
                .collect::<Vec<_>>()
        };
        let company_notes = lapse_notes(w.company_account).await;
        assert_eq!(company_notes.len(), 1);
        assert_eq!(company_notes[0].params["subject"], "ネットワーク構成図");
        assert_eq!(company_notes[0].params["due"], "2026-12-08");
        assert_eq!(lapse_notes(w.secretariat_account).await.len(), 1);
        assert!(lapse_notes(w.hospital_account).await.is_empty());
        assert_eq!(s.lapse_overdue().await.unwrap(), 0, "idempotent");
        s.check_deadlines().await.unwrap();
        assert_eq!(lapse_notes(w.company_account).await.len(), 1);
        assert_eq!(audited(s, AuditAction::RequestLapsed).await.len(), 1);
        let detail = s.engagement_detail(&w.company, w.engagement).await.unwrap();
        assert!(request_deadlines(&detail.deadlines).is_empty(), "none open");

        // The hospital hands the material in late: received, still lapsed.
        s.clock().set_today(date!(2026 - 12 - 11));
        let late = s
            .receive_request(&w.hospital, r.id, s.today(), Some(pdf()), "遅れました")
            .await
            .unwrap();
        assert_eq!(late.status, RequestStatus::Received);
        assert_eq!(late.lapsed_on, Some(date!(2026 - 12 - 09)));
        assert_eq!(late.received_on, Some(date!(2026 - 12 - 11)));
        assert!(late.file_id.is_some());
        let (file, bytes) = s.request_file(&w.company, r.id).await.unwrap();
        assert_eq!(file.content_type, "application/pdf");
        assert_eq!(bytes, pdf().data);
        assert!(!audited(s, AuditAction::FileRead).await.is_empty());
        assert!(matches!(
            s.request_file(&w.stranger, r.id).await.unwrap_err(),
            StoreError::Denied(_)
        ));
        let before = tables(&db).await;
        let again = s
            .receive_request(&w.company, r.id, s.today(), Some(pdf()), "")
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::Conflict(_)), "{again}");
        assert_eq!(tables(&db).await, before);
        assert_eq!(audited(s, AuditAction::RequestReceived).await.len(), 2);

        // Recorded late, before the periodic lapse: late all the same.
        let forgotten = s
            .raise_request(
                &w.company,
                w.engagement,
                &request("BCP", RequestParty::Hospital, "", day),
            )
            .await
            .unwrap();
        assert_eq!(forgotten.status, RequestStatus::NotSubmitted);
        for (on, field) in [
            (date!(2026 - 11 - 30), "received_on"),
            (date!(2026 - 12 - 12), "received_on"),
        ] {
            let err = s
                .receive_request(&w.company, forgotten.id, on, None, "")
                .await
                .unwrap_err();
            assert_eq!(invalid_field(&err), field, "{err}");
        }
        let received = s
            .receive_request(&w.company, forgotten.id, date!(2026 - 12 - 10), None, "")
            .await
            .unwrap();
        assert_eq!(received.status, RequestStatus::Received);
        assert_eq!(received.lapsed_on, Some(date!(2026 - 12 - 09)));
        db
    })
    .await;
}

fn inquiry(consent_given_by: &str, on: Date) -> NewInquiry {
    NewInquiry {
        vendor_name: "電子カルテ社".into(),
        vendor_contact: "support@vendor.example.jp".into(),
        question: "サーバのOSとサポート期限を教えてください。".into(),
        consent_given_by: consent_given_by.into(),
        consent_on: on,
        requested_on: on,
        due_on: None,
        valid_days: 14,
    }
}

#[tokio::test]
async fn a_vendor_answers_once_through_its_link() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(&db).await;
        let day = s.today();
        let before = tables(&db).await;
        for (new, field) in [
            (inquiry("", day), "consent_given_by"),
            (
                NewInquiry {
                    consent_on: day.next_day().unwrap(),
                    ..inquiry("事務長 山田", day)
                },
                "consent_on",
            ),
            (
                NewInquiry {
                    valid_days: 0,
                    ..inquiry("事務長 山田", day)
                },
                "valid_days",
            ),
            (
                NewInquiry {
                    valid_days: 31,
                    ..inquiry("事務長 山田", day)
                },
                "valid_days",
            ),
            (
                NewInquiry {
                    question: " ".into(),
                    ..inquiry("事務長 山田", day)
                },
                "question",
            ),
        ] {
            let err = s
                .open_vendor_inquiry(&w.company, w.engagement, &new)
                .await
                .unwrap_err();
            assert_eq!(invalid_field(&err), field, "{err}");
        }
        let err = s
            .open_vendor_inquiry(&w.stranger, w.engagement, &inquiry("事務長 山田", day))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err}");
        assert_eq!(tables(&db).await, before, "refusals write nothing");

        // The hospital's own staff may ask its vendor.
        let (q, token) = s
            .open_vendor_inquiry(&w.hospital, w.engagement, &inquiry("事務長 山田", day))
            .await
            .unwrap();
        assert_eq!(q.due_on, date!(2026 - 12 - 08));
        assert_eq!(q.status, RequestStatus::Requested);
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM vendor_inquiries WHERE link_hash = '{token}'"
            ))
            .await,
            0,
            "only the hash is kept"
        );
        let view = s.inquiry_by_link(&token, Some("192.0.2.7")).await.unwrap();
        assert_eq!(view.hospital_name, "湖畔病院");
        assert_eq!(view.vendor_name, "電子カルテ社");
        assert_eq!(view.question, q.question);
        assert_eq!(view.due_on, q.due_on);

        let unknown = s.inquiry_by_link("no-such-token", None).await.unwrap_err();
        assert!(matches!(unknown, StoreError::NotFound { .. }), "{unknown}");

        // Empty answer: refused, the link still works.
        let err = s
            .answer_inquiry(&token, "  ", None, None)
            .await
            .unwrap_err();
        assert_eq!(invalid_field(&err), "answer");
        let answered = s
            .answer_inquiry(
                &token,
                "Windows Server 2019、延長サポートは2029年1月まで。",
                Some(pdf()),
                Some("192.0.2.7"),
            )
            .await
            .unwrap();
        assert_eq!(answered.status, RequestStatus::Received);
        assert!(answered.answered_at_ms.is_some());
        assert!(answered.file_id.is_some());
        let done = audited(s, AuditAction::InquiryAnswered).await;
        assert_eq!(done.len(), 1);
        assert_eq!(
            done[0].content.actor_label,
            format!("link:inquiry:{}", q.id)
        );
        assert_eq!(done[0].content.client_addr.as_deref(), Some("192.0.2.7"));

        // A second answer: refused, nothing written.
        let before = tables(&db).await;
        let again = s
            .answer_inquiry(&token, "上書きします", Some(pdf()), None)
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::LinkUsed), "{again}");
        assert!(matches!(
            s.inquiry_by_link(&token, None).await.unwrap_err(),
            StoreError::LinkUsed
        ));
        assert_eq!(tables(&db).await, before);
        let listed = s.vendor_inquiries(&w.company, w.engagement).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].answer.starts_with("Windows Server 2019"));
        let (_, bytes) = s.inquiry_file(&w.secretariat, q.id).await.unwrap();
        assert_eq!(bytes, pdf().data);

        // A link past its expiry (by the store's clock) is refused, and
        // the inquiry, past its due day, lapses.
        let (late, late_token) = s
            .open_vendor_inquiry(
                &w.company,
                w.engagement,
                &NewInquiry {
                    valid_days: 3,
                    ..inquiry("院長 佐藤", day)
                },
            )
            .await
            .unwrap();
        s.clock().set_today(date!(2026 - 12 - 05));
        let before = tables(&db).await;
        assert!(matches!(
            s.inquiry_by_link(&late_token, None).await.unwrap_err(),
            StoreError::LinkExpired
        ));
        assert!(matches!(
            s.answer_inquiry(&late_token, "遅い回答", None, None)
                .await
                .unwrap_err(),
            StoreError::LinkExpired
        ));
        assert_eq!(tables(&db).await, before);
        let refused = audited(s, AuditAction::LinkRefused).await;
        assert_eq!(refused.len(), 5, "unknown, used ×2, expired ×2");
        for record in &refused {
            assert!(!record.content.detail.contains(&token));
            assert!(!record.content.detail.contains(&late_token));
            assert!(!record.content.target.contains(&late_token));
        }
        let (slow, slow_token) = s
            .open_vendor_inquiry(
                &w.company,
                w.engagement,
                &NewInquiry {
                    valid_days: 30,
                    ..inquiry("院長 佐藤", day)
                },
            )
            .await
            .unwrap();
        s.clock().set_today(date!(2026 - 12 - 09));
        assert_eq!(s.lapse_overdue().await.unwrap(), 2);
        // Past its due day but within its link's life: answered late.
        assert_eq!(
            s.inquiry_by_link(&slow_token, None).await.unwrap().question,
            slow.question
        );
        let slow_now = s
            .answer_inquiry(&slow_token, "回答が遅れました。", None, None)
            .await
            .unwrap();
        assert_eq!(slow_now.status, RequestStatus::Received);
        assert_eq!(slow_now.lapsed_on, Some(date!(2026 - 12 - 09)));
        let lapsed = audited(s, AuditAction::InquiryLapsed).await;
        assert_eq!(lapsed.len(), 2);
        assert!(
            lapsed
                .iter()
                .any(|r| r.content.target == format!("inquiry:{}", late.id))
        );
        let listed = s.vendor_inquiries(&w.hospital, w.engagement).await.unwrap();
        let late_now = listed.iter().find(|x| x.id == late.id).unwrap();
        assert_eq!(late_now.status, RequestStatus::NotSubmitted);
        assert_eq!(late_now.lapsed_on, Some(date!(2026 - 12 - 09)));
        let answered_now = listed.iter().find(|x| x.id == q.id).unwrap();
        assert_eq!(answered_now.status, RequestStatus::Received);
        assert_eq!(answered_now.lapsed_on, None);
        db
    })
    .await;
}
