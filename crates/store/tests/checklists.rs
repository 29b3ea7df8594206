//! Checklist frameworks, respondents, self-assessments and links, run on
//! SQLite and (when configured) PostgreSQL.

use mamori_domain::checklist::builtin::builtin_frameworks;
use mamori_domain::checklist::{
    Answer, AnswerValue, CellKey, Form, FrameworkOrigin, RespondentRole, Scope,
};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::{EngagementId, OrgId, ProgrammeId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{
    Account, AuditContext, AuditFilter, FrameworkRecord, NewProgrammeItem, NewRespondent,
    Respondent, Store, StoreError,
};
use std::collections::BTreeMap;
use time::macros::date;
use time::{Date, Duration};

const TODAY: Date = date!(2026 - 06 - 01);

fn operator() -> AuditContext {
    AuditContext::operator("cli:test")
}

fn as_ctx(a: &Account) -> AuditContext {
    AuditContext::for_actor(a.actor(), &a.email, None)
}

async fn audit_count(s: &Store, action: &str) -> usize {
    audit_of(s, action).await.len()
}

async fn audit_of(s: &Store, action: &str) -> Vec<mamori_domain::audit::AuditRecord> {
    s.audit_page(
        None,
        &AuditFilter {
            action: Some(action.into()),
            limit: 10_000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .records
}

/// Every table the checklist writes, counted behind the store's back.
async fn rows(db: &TestDb) -> [i64; 3] {
    [
        db.count("SELECT COUNT(*) FROM checklist_respondents").await,
        db.count("SELECT COUNT(*) FROM checklist_answers").await,
        db.count("SELECT COUNT(*) FROM checklist_respondents WHERE submitted_at IS NOT NULL")
            .await,
    ]
}

fn yes(on: Date) -> Answer {
    Answer {
        value: AnswerValue::Yes,
        checked_on: Some(on),
        target_on: None,
        not_understood: String::new(),
    }
}

fn no(on: Date, target: Option<Date>) -> Answer {
    Answer {
        value: AnswerValue::No,
        checked_on: Some(on),
        target_on: target,
        not_understood: String::new(),
    }
}

/// はい to every cell of the form.
fn all_yes(form: &Form, on: Date) -> BTreeMap<CellKey, Answer> {
    form.cells()
        .map(|(item, cell)| (CellKey::new(item.number.clone(), cell.scope), yes(on)))
        .collect()
}

struct World {
    programme: ProgrammeId,
    framework: FrameworkRecord,
    /// Hospital 1, surveyed by company A (contracted).
    hospital: OrgId,
    engagement: EngagementId,
    /// Hospital 2, surveyed by company B (contracted).
    other_engagement: EngagementId,
    /// Hospital 3, also company A's (contracted).
    third: EngagementId,
    secretariat: AuditContext,
    supervisor: AuditContext,
    company: AuditContext,
    other_company: AuditContext,
    /// Company C, assigned to hospital 4 before its contract.
    early_company: AuditContext,
    early_engagement: EngagementId,
    staff: Account,
    staff2: Account,
    other_staff: Account,
    ministry: AuditContext,
}

async fn world(s: &Store) -> World {
    s.clock().set_today(TODAY);
    let org = |kind, name: &'static str| testing::add_org(s, kind, name);
    let sec = org(OrgKind::Secretariat, "研究事務局").await;
    let sup = org(OrgKind::Supervisor, "監督企業").await;
    let a = org(OrgKind::SurveyCompany, "調査A社").await;
    let b = org(OrgKind::SurveyCompany, "調査B社").await;
    let c = org(OrgKind::SurveyCompany, "調査C社").await;
    let h1 = org(OrgKind::Hospital, "島根中央病院").await;
    let h2 = org(OrgKind::Hospital, "出雲北病院").await;
    let h3 = org(OrgKind::Hospital, "松江南病院").await;
    let h4 = org(OrgKind::Hospital, "浜田西病院").await;
    let min = org(OrgKind::Ministry, "医療政策省").await;
    let account = |o, email: &'static str| testing::add_account(s, o, email, Role::Member);
    let secretariat = as_ctx(&account(sec, "sec@example.jp").await);
    let supervisor = as_ctx(&account(sup, "sup@example.jp").await);
    let company = as_ctx(&account(a, "a@example.jp").await);
    let other_company = as_ctx(&account(b, "b@example.jp").await);
    let early_company = as_ctx(&account(c, "c@example.jp").await);
    let staff = account(h1, "staff1@h1.example.jp").await;
    let staff2 = account(h1, "staff2@h1.example.jp").await;
    let other_staff = account(h2, "staff@h2.example.jp").await;
    let ministry = as_ctx(&account(min, "min@example.jp").await);
    let programme = testing::add_programme(s, "令和8年度調査").await;
    let e1 = testing::add_engagement(s, programme, h1, a, EngagementState::Surveying).await;
    let e2 = testing::add_engagement(s, programme, h2, b, EngagementState::Surveying).await;
    let e3 = testing::add_engagement(s, programme, h3, a, EngagementState::Surveying).await;
    let e4 = testing::add_engagement(s, programme, h4, c, EngagementState::PledgeIssued).await;
    let framework = testing::set_checklist(s, programme, "mhlw-r6").await;
    World {
        programme,
        framework,
        hospital: h1,
        engagement: e1.id,
        other_engagement: e2.id,
        third: e3.id,
        secretariat,
        supervisor,
        company,
        other_company,
        early_company,
        early_engagement: e4.id,
        staff,
        staff2,
        other_staff,
        ministry,
    }
}

fn hospital_form(w: &World) -> Form {
    w.framework.framework.form("hospital").cloned().unwrap()
}

async fn add(
    s: &Store,
    ctx: &AuditContext,
    e: EngagementId,
    name: &str,
    account: Option<&Account>,
) -> Result<Respondent, StoreError> {
    s.add_respondent(
        ctx,
        e,
        &NewRespondent {
            form_key: "hospital".into(),
            role: RespondentRole::Administrator,
            name: name.into(),
            account: account.map(|a| a.id),
        },
    )
    .await
}

#[tokio::test]
async fn builtins_install_once_and_imports_are_new_versions() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let shipped = builtin_frameworks().unwrap();
        let listed = s.frameworks(&operator()).await.unwrap();
        assert_eq!(listed.len(), shipped.len(), "{}", db.label);
        assert!(listed.iter().all(|f| f.version == 1
            && f.origin == FrameworkOrigin::Builtin
            && f.programme_id.is_none()));
        let r6 = listed.iter().find(|f| f.key == "mhlw-r6").unwrap().clone();
        assert_eq!(
            r6.framework,
            shipped.iter().find(|f| f.key == "mhlw-r6").unwrap().clone()
        );
        assert!(r6.unverified() > 0, "the reference marks inferred items");
        assert_eq!(
            audit_count(s, "checklist.framework-installed").await,
            shipped.len()
        );
        // Again (and with every migrate): nothing new.
        assert_eq!(s.install_builtin_frameworks().await.unwrap(), 0);
        s.migrate().await.unwrap();
        assert_eq!(
            s.frameworks(&operator()).await.unwrap().len(),
            shipped.len()
        );
        assert_eq!(
            audit_count(s, "checklist.framework-installed").await,
            shipped.len()
        );

        let w = world(s).await;
        let mut workbook = r6.framework.clone();
        workbook.edition_en = "FY2024 edition, read from the official workbook".into();
        let imported = s.import_framework(&w.secretariat, &workbook).await.unwrap();
        assert_eq!(imported.key, "mhlw-r6");
        assert_eq!(imported.version, r6.version + 1);
        assert_eq!(imported.origin, FrameworkOrigin::Imported);
        assert_eq!(
            s.framework(&w.company, imported.id)
                .await
                .unwrap()
                .framework,
            workbook
        );
        assert_eq!(audit_count(s, "checklist.framework-imported").await, 1);
        // Only the secretariat imports; a programme's key is not importable.
        let err = s.import_framework(&w.company, &workbook).await.unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let mut sneaky = workbook.clone();
        sneaky.key = "programme-1".into();
        let err = s
            .import_framework(&w.secretariat, &sneaky)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        // A builtin unchanged since its last shipped version is not reinstalled
        // even though an import made a later version of the key.
        assert_eq!(s.install_builtin_frameworks().await.unwrap(), 0);
        // A shipped edition that differs from its last installed version
        // (as after an upgrade that corrects a wording) becomes a new version;
        // the old one stays as it was.
        db.execute_raw(
            "UPDATE checklist_frameworks SET definition = REPLACE(definition, '令和6年度版', '令和6年度版（旧）') WHERE key = 'mhlw-r6' AND version = 1",
        )
        .await
        .unwrap();
        assert_eq!(s.install_builtin_frameworks().await.unwrap(), 1);
        let r6s: Vec<_> = s
            .frameworks(&operator())
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.key == "mhlw-r6")
            .collect();
        assert_eq!(
            r6s.iter()
                .map(|f| (f.version, f.origin))
                .collect::<Vec<_>>(),
            [
                (1, FrameworkOrigin::Builtin),
                (2, FrameworkOrigin::Imported),
                (3, FrameworkOrigin::Builtin)
            ]
        );
        assert_eq!(r6s[0].framework.edition_ja, "令和6年度版（旧）");
        assert_eq!(r6s[2].framework, r6.framework);
        assert_eq!(s.install_builtin_frameworks().await.unwrap(), 0);
        db
    })
    .await;
}

#[tokio::test]
async fn the_programme_framework_is_fixed_once_answered() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let err = s
            .set_programme_framework(&w.company, w.programme, w.framework.id)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let sec = &w.secretariat;
        let mut workbook = w.framework.framework.clone();
        workbook.edition_en = "workbook".into();
        let imported = s.import_framework(sec, &workbook).await.unwrap();
        // Respondents without answers follow the change.
        let r = add(s, sec, w.engagement, "田中 誠", None).await.unwrap();
        assert_eq!(r.framework_id, w.framework.id);
        s.set_programme_framework(sec, w.programme, imported.id)
            .await
            .unwrap();
        let c = s.engagement_checklist(sec, w.engagement).await.unwrap();
        assert_eq!(c.framework.as_ref().map(|f| f.id), Some(imported.id));
        assert_eq!(c.respondents[0].respondent.framework_id, imported.id);
        s.save_answer(
            sec,
            r.id,
            imported.id,
            &CellKey::new("0", Scope::Organisation),
            &yes(TODAY),
        )
        .await
        .unwrap();
        // Now that someone answered, the choice stays.
        let err = s
            .set_programme_framework(sec, w.programme, w.framework.id)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("田中 誠 has already answered mhlw-r6 v2"),
            "{err}"
        );
        assert_eq!(
            s.engagement_checklist(sec, w.engagement)
                .await
                .unwrap()
                .framework
                .map(|f| f.id),
            Some(imported.id)
        );
        // A programme's own items are never a programme's framework.
        let sup = s
            .add_programme_item(
                sec,
                w.programme,
                &NewProgrammeItem {
                    text_ja: "委託事業者の管理体制を確認している。".into(),
                    text_en: String::new(),
                    scope: Scope::Organisation,
                    forms: vec![],
                    note_ja: String::new(),
                },
            )
            .await
            .unwrap();
        let err = s
            .set_programme_framework(sec, w.programme, sup.id)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("programme's own items"), "{err}");
        assert_eq!(audit_count(s, "checklist.programme-framework-set").await, 2);
        db
    })
    .await;
}

#[tokio::test]
async fn respondents_belong_to_the_hospital_and_its_contracted_company() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let staff = as_ctx(&w.staff);
        let r = add(s, &staff, w.engagement, "田中 誠", Some(&w.staff))
            .await
            .unwrap();
        assert_eq!(r.account, Some(w.staff.id));
        assert_eq!(r.form_key, "hospital");
        assert_eq!(audit_count(s, "checklist.respondent-added").await, 1);
        // The company and the secretariat add respondents too.
        add(s, &w.company, w.engagement, "森 友美", None)
            .await
            .unwrap();
        add(s, &w.secretariat, w.engagement, "院長 岡田", None)
            .await
            .unwrap();

        let before = rows(&db).await;
        let denied = audit_count(s, "access.denied").await;
        // An account of another hospital is refused.
        let err = add(s, &staff, w.engagement, "他院の人", Some(&w.other_staff))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not an account of"), "{err}");
        // A form the framework does not have.
        let err = s
            .add_respondent(
                &staff,
                w.engagement,
                &NewRespondent {
                    form_key: "executive".into(),
                    role: RespondentRole::Director,
                    name: "院長".into(),
                    account: None,
                },
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("executive"), "{err}");
        assert_eq!(rows(&db).await, before);
        // Uncontracted company, another company, another hospital, supervisor
        // and ministry: refused by the policy and audited.
        for (ctx, e) in [
            (&w.early_company, w.early_engagement),
            (&w.other_company, w.engagement),
            (&as_ctx(&w.other_staff), w.engagement),
            (&w.supervisor, w.engagement),
            (&w.ministry, w.engagement),
        ] {
            let err = add(s, ctx, e, "誰か", None).await.unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{err}");
        }
        assert_eq!(rows(&db).await, before, "{}", db.label);
        assert_eq!(audit_count(s, "access.denied").await, denied + 5);

        // Without a framework set, the programme has nothing to answer.
        let bare = testing::add_programme(s, "枠のない調査").await;
        let h = testing::add_org(s, OrgKind::Hospital, "枠なし病院").await;
        let company = testing::add_org(s, OrgKind::SurveyCompany, "枠なし社").await;
        let e = testing::add_engagement(s, bare, h, company, EngagementState::Surveying).await;
        let err = add(s, &w.secretariat, e.id, "誰か", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no checklist framework"), "{err}");
        db
    })
    .await;
}

#[tokio::test]
async fn self_assessment_half_way_then_submitted_then_corrected_by_the_company() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let staff = as_ctx(&w.staff);
        let fid = w.framework.id;
        let r = add(s, &staff, w.engagement, "田中 誠", Some(&w.staff))
            .await
            .unwrap();
        // Half-way: いいえ without 目標日 is kept for now.
        let server = CellKey::new("2-(4)", Scope::Server);
        s.save_answer(&staff, r.id, fid, &server, &no(TODAY, None))
            .await
            .unwrap();
        let mut noted = yes(TODAY);
        noted.not_understood = "「安全管理責任者」が誰を指すのか分からない".into();
        s.save_answer(
            &staff,
            r.id,
            fid,
            &CellKey::new("1-(1)", Scope::Organisation),
            &noted,
        )
        .await
        .unwrap();
        // Refused input names the item and changes nothing.
        let before = rows(&db).await;
        let err = s
            .save_answer(
                &staff,
                r.id,
                fid,
                &server,
                &no(TODAY + Duration::days(1), None),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("2-(4) サーバ"), "{err}");
        let err = s
            .save_answer(
                &staff,
                r.id,
                fid,
                &CellKey::new("9-(9)", Scope::Server),
                &yes(TODAY),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("9-(9)"), "{err}");
        let err = s
            .save_answer(
                &staff,
                r.id,
                fid,
                &CellKey::new("1-(1)", Scope::Server),
                &yes(TODAY),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not asked"), "{err}");
        assert_eq!(rows(&db).await, before);

        let c = s.engagement_checklist(&staff, w.engagement).await.unwrap();
        let sheet = &c.respondents[0];
        assert_eq!(sheet.answers.len(), 2);
        assert_eq!(sheet.completion.answered, 2);
        assert_eq!(sheet.completion.no, 1);
        assert_eq!(sheet.completion.not_understood, 1);
        let cells = hospital_form(&w).cells().count();
        assert_eq!(sheet.completion.applicable, cells);

        // Submission lists every gap, naming item and scope.
        let err = s.submit_self_assessment(&staff, r.id).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("2-(4) サーバ: いいえ needs a 目標日"),
            "{message}"
        );
        assert!(message.contains("2-(4) 端末PC: no answer"), "{message}");
        assert!(message.contains("3-(3): no answer"), "{message}");
        assert_eq!(message.lines().count(), cells - 1, "{message}");
        assert_eq!(rows(&db).await, before);

        let mut rest = all_yes(&hospital_form(&w), TODAY);
        rest.insert(server.clone(), no(TODAY, Some(date!(2027 - 03 - 31))));
        rest.insert(CellKey::new("1-(1)", Scope::Organisation), noted.clone());
        assert_eq!(
            s.import_answers(&staff, r.id, fid, &rest).await.unwrap(),
            cells
        );
        let submitted = s.submit_self_assessment(&staff, r.id).await.unwrap();
        assert!(submitted.submitted_at_ms.is_some());
        assert_eq!(
            audit_count(s, "checklist.self-assessment-submitted").await,
            1
        );
        let err = s.submit_self_assessment(&staff, r.id).await.unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");

        // Submitted: hospital staff no longer change it; refused and audited.
        let before = rows(&db).await;
        let denied = audit_count(s, "access.denied").await;
        let err = s
            .save_answer(&staff, r.id, fid, &server, &yes(TODAY))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let err = s
            .import_answers(&staff, r.id, fid, &rest)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        assert_eq!(audit_count(s, "access.denied").await, denied + 2);
        assert_eq!(rows(&db).await, before);
        // The company corrects; the log keeps before and after.
        s.save_answer(&w.company, r.id, fid, &server, &yes(TODAY))
            .await
            .unwrap();
        let saved = audit_of(s, "checklist.answer-saved").await;
        let last = &saved[0].content;
        assert_eq!(last.actor_label, "a@example.jp");
        assert_eq!(last.hospital, Some(w.hospital));
        assert!(
            last.detail
                .contains("2-(4) (server): no 確認日=2026-06-01 目標日=2027-03-31 → yes"),
            "{}",
            last.detail
        );
        assert!(last.detail.contains("correction after submission"));
        let c = s.respondent_sheet(&w.supervisor, r.id).await.unwrap();
        assert_eq!(c.respondents.len(), 1);
        assert_eq!(c.respondents[0].answers[&server].value, AnswerValue::Yes);
        assert!(c.respondents[0].completion.is_complete());
        db
    })
    .await;
}

#[tokio::test]
async fn staff_answer_their_own_or_unassigned_respondents() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let fid = w.framework.id;
        let key = CellKey::new("0", Scope::Organisation);
        let mine = add(s, &w.secretariat, w.engagement, "田中", Some(&w.staff))
            .await
            .unwrap();
        let open = add(s, &w.secretariat, w.engagement, "誰でも", None)
            .await
            .unwrap();
        let staff2 = as_ctx(&w.staff2);
        s.save_answer(&staff2, open.id, fid, &key, &yes(TODAY))
            .await
            .unwrap();
        let before = rows(&db).await;
        let err = s
            .save_answer(&staff2, mine.id, fid, &key, &yes(TODAY))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let err = s
            .issue_respondent_link(&staff2, mine.id, 7)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        // Other hospitals, other companies, the supervisor and the ministry
        // do not write at all.
        for ctx in [
            as_ctx(&w.other_staff),
            w.other_company.clone(),
            w.supervisor.clone(),
            w.ministry.clone(),
        ] {
            let err = s
                .save_answer(&ctx, open.id, fid, &key, &yes(TODAY))
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{err}");
        }
        assert_eq!(rows(&db).await, before);
        // Answers of another framework are refused.
        let err = s
            .save_answer(&staff2, open.id, fid + 1000, &key, &yes(TODAY))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert_eq!(rows(&db).await, before);
        db
    })
    .await;
}

#[tokio::test]
async fn links_read_save_and_submit_once_and_expire_by_the_store_clock() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let fid = w.framework.id;
        let r = add(s, &w.company, w.engagement, "看護部 森", None)
            .await
            .unwrap();
        for days in [0, 61] {
            let err = s
                .issue_respondent_link(&w.company, r.id, days)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        }
        let (_, old) = s.issue_respondent_link(&w.company, r.id, 7).await.unwrap();
        // Re-issuing replaces the link.
        let (issued, token) = s.issue_respondent_link(&w.company, r.id, 7).await.unwrap();
        assert_eq!(audit_count(s, "checklist.respondent-link-issued").await, 2);
        assert_eq!(
            issued.link_expires_at_ms,
            Some(s.clock().now_ms() + 7 * 24 * 60 * 60 * 1000)
        );
        let stored = db
            .count(&format!(
                "SELECT COUNT(*) FROM checklist_respondents WHERE link_hash = '{}'",
                mamori_store::credentials::token_hash(&token)
            ))
            .await;
        assert_eq!(stored, 1, "only the hash is kept");
        let err = s.respondent_by_link(&old, None).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

        let linked = s
            .respondent_by_link(&token, Some("192.0.2.7"))
            .await
            .unwrap();
        assert_eq!(linked.respondent.id, r.id);
        assert_eq!(linked.hospital_name, "島根中央病院");
        assert_eq!(linked.framework.id, fid);
        assert!(linked.answers.is_empty());
        let reads = audit_of(s, "hospital-data.read").await;
        let read = &reads[0].content;
        assert_eq!(read.actor_label, format!("link:respondent:{}", r.id));
        assert_eq!(read.client_addr.as_deref(), Some("192.0.2.7"));
        assert_eq!(read.hospital, Some(w.hospital));

        let key = CellKey::new("0", Scope::Organisation);
        s.save_answer_by_link(&token, fid, &key, &yes(TODAY), None)
            .await
            .unwrap();
        let err = s.submit_by_link(&token, None).await.unwrap_err();
        assert!(err.to_string().contains("1-(1): no answer"), "{err}");
        let all = all_yes(&hospital_form(&w), TODAY);
        for (k, a) in &all {
            s.save_answer_by_link(&token, fid, k, a, None)
                .await
                .unwrap();
        }
        let saved = audit_of(s, "checklist.answer-saved").await;
        assert!(
            saved
                .iter()
                .all(|a| a.content.actor_label == format!("link:respondent:{}", r.id))
        );
        let done = s.submit_by_link(&token, None).await.unwrap();
        assert!(done.submitted_at_ms.is_some());

        // Used: every later use is refused as such, audited, and changes nothing.
        let before = rows(&db).await;
        let refused = audit_count(s, "link.refused").await;
        assert!(matches!(
            s.respondent_by_link(&token, None).await.unwrap_err(),
            StoreError::LinkUsed
        ));
        assert!(matches!(
            s.save_answer_by_link(&token, fid, &key, &no(TODAY, None), None)
                .await
                .unwrap_err(),
            StoreError::LinkUsed
        ));
        assert!(matches!(
            s.submit_by_link(&token, None).await.unwrap_err(),
            StoreError::LinkUsed
        ));
        assert_eq!(rows(&db).await, before);
        assert_eq!(audit_count(s, "link.refused").await, refused + 3);

        // Expired by the store's clock.
        let late = add(s, &w.company, w.engagement, "放射線科 林", None)
            .await
            .unwrap();
        let (_, short) = s
            .issue_respondent_link(&w.company, late.id, 1)
            .await
            .unwrap();
        s.respondent_by_link(&short, None).await.unwrap();
        s.clock().set_today(TODAY + Duration::days(2));
        let before = rows(&db).await;
        assert!(matches!(
            s.respondent_by_link(&short, None).await.unwrap_err(),
            StoreError::LinkExpired
        ));
        assert!(matches!(
            s.save_answer_by_link(&short, fid, &key, &yes(TODAY), None)
                .await
                .unwrap_err(),
            StoreError::LinkExpired
        ));
        // Unknown.
        assert!(matches!(
            s.respondent_by_link("not-a-token", None).await.unwrap_err(),
            StoreError::NotFound { .. }
        ));
        assert_eq!(rows(&db).await, before);
        let refusals = audit_of(s, "link.refused").await;
        assert_eq!(refusals.len(), refused + 3 + 3);
        assert!(refusals[0].content.detail.starts_with("unknown"));
        assert!(refusals[1].content.detail.starts_with("expired"));
        for r in &refusals {
            assert!(!r.content.detail.contains(&short) && !r.content.target.contains(&short));
        }
        db
    })
    .await;
}

#[tokio::test]
async fn imports_are_all_or_nothing() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let fid = w.framework.id;
        let r = add(s, &w.company, w.engagement, "田中", None)
            .await
            .unwrap();
        let mut answers = all_yes(&hospital_form(&w), TODAY);
        answers.insert(
            CellKey::new("2-(6)", Scope::Server),
            yes(TODAY + Duration::days(3)),
        );
        let before = rows(&db).await;
        let err = s
            .import_answers(&w.company, r.id, fid, &answers)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("2-(6): the 確認日"), "{err}");
        answers.insert(CellKey::new("2-(6)", Scope::Server), yes(TODAY));
        answers.insert(CellKey::new("X-1", Scope::Server), yes(TODAY));
        let err = s
            .import_answers(&w.company, r.id, fid, &answers)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("X-1: the form has no such item"),
            "{err}"
        );
        assert_eq!(rows(&db).await, before, "{}", db.label);
        assert_eq!(audit_count(s, "checklist.answers-imported").await, 0);
        answers.remove(&CellKey::new("X-1", Scope::Server));
        let n = s
            .import_answers(&w.company, r.id, fid, &answers)
            .await
            .unwrap();
        assert_eq!(n, answers.len());
        let imported = audit_of(s, "checklist.answers-imported").await;
        assert!(imported[0].content.detail.contains(&format!("count={n}")));
        // Importing again replaces, not duplicates.
        s.import_answers(&w.company, r.id, fid, &answers)
            .await
            .unwrap();
        assert_eq!(
            db.count("SELECT COUNT(*) FROM checklist_answers").await,
            n as i64
        );
        db
    })
    .await;
}

#[tokio::test]
async fn programme_items_added_mid_way_are_new_versions_and_old_answers_stay() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let sec = &w.secretariat;
        let item = |text: &str, forms: Vec<String>| NewProgrammeItem {
            text_ja: text.into(),
            text_en: String::new(),
            scope: Scope::Organisation,
            forms,
            note_ja: "サプライチェーン".into(),
        };
        let err = s
            .add_programme_item(&w.company, w.programme, &item("x", vec![]))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let err = s
            .add_programme_item(sec, w.programme, &item("x", vec!["executive".into()]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("executive"), "{err}");
        let v1 = s
            .add_programme_item(
                sec,
                w.programme,
                &item(
                    "保守事業者の管理体制を確認している。",
                    vec!["hospital".into()],
                ),
            )
            .await
            .unwrap();
        assert_eq!(v1.key, format!("programme-{}", w.programme));
        assert_eq!(v1.version, 1);
        assert_eq!(v1.origin, FrameworkOrigin::Programme);
        assert_eq!(v1.programme_id, Some(w.programme));
        let form = &v1.framework.forms[0];
        assert_eq!(form.key, "supplement");
        assert_eq!(form.title_ja, "研究班追加項目");
        assert_eq!(
            form.items().map(|i| i.number.as_str()).collect::<Vec<_>>(),
            ["P-1"]
        );

        let r = add(s, &w.company, w.engagement, "田中", None)
            .await
            .unwrap();
        let vendor = s
            .add_respondent(
                &w.company,
                w.engagement,
                &NewRespondent {
                    form_key: "vendor".into(),
                    role: RespondentRole::Vendor,
                    name: "保守担当".into(),
                    account: None,
                },
            )
            .await
            .unwrap();
        let p1 = CellKey::new("P-1", Scope::Organisation);
        let mut unclear = no(TODAY, None);
        unclear.not_understood = "保守事業者の範囲が分からない".into();
        s.save_answer(&w.company, r.id, v1.id, &p1, &unclear)
            .await
            .unwrap();
        // P-1 is not asked of the vendor form.
        let err = s
            .save_answer(&w.company, vendor.id, v1.id, &p1, &yes(TODAY))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        let v2 = s
            .add_programme_item(
                sec,
                w.programme,
                &item("委託先のリモート保守の方法を確認している。", vec![]),
            )
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(
            v2.framework.forms[0]
                .items()
                .map(|i| i.number.as_str())
                .collect::<Vec<_>>(),
            ["P-1", "P-2"]
        );
        assert_eq!(audit_count(s, "checklist.programme-item-added").await, 2);
        // The first version is unchanged and still readable.
        assert_eq!(
            s.framework(sec, v1.id).await.unwrap().framework,
            v1.framework
        );
        let c = s.engagement_checklist(sec, w.engagement).await.unwrap();
        assert_eq!(c.supplement.as_ref().map(|f| f.id), Some(v2.id));
        let sheet = c
            .respondents
            .iter()
            .find(|x| x.respondent.id == r.id)
            .unwrap();
        assert_eq!(sheet.supplement_answers[&p1], unclear);
        let cells = hospital_form(&w).cells().count();
        assert_eq!(sheet.completion.applicable, cells + 2);
        assert_eq!(sheet.completion.answered, 1);
        let vendor_sheet = c
            .respondents
            .iter()
            .find(|x| x.respondent.id == vendor.id)
            .unwrap();
        let vendor_cells = w
            .framework
            .framework
            .form("vendor")
            .unwrap()
            .cells()
            .count();
        assert_eq!(vendor_sheet.completion.applicable, vendor_cells + 1);
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM checklist_answers WHERE framework_id = {}",
                v1.id
            ))
            .await,
            1
        );
        // New answers go to the current version; the old one takes none.
        let err = s
            .save_answer(&w.company, r.id, v1.id, &p1, &yes(TODAY))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("current own items"), "{err}");
        s.save_answer(
            &w.company,
            r.id,
            v2.id,
            &CellKey::new("P-2", Scope::Organisation),
            &yes(TODAY),
        )
        .await
        .unwrap();
        // Submission also asks the programme's items.
        let answers = all_yes(&hospital_form(&w), TODAY);
        s.import_answers(&w.company, r.id, w.framework.id, &answers)
            .await
            .unwrap();
        let err = s
            .submit_self_assessment(&w.company, r.id)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "answers: P-1: いいえ needs a 目標日 (target date)"
        );
        s.save_answer(
            &w.company,
            r.id,
            v2.id,
            &p1,
            &no(TODAY, Some(date!(2027 - 01 - 31))),
        )
        .await
        .unwrap();
        s.submit_self_assessment(&w.company, r.id).await.unwrap();
        let c = s.respondent_sheet(sec, r.id).await.unwrap();
        assert_eq!(
            c.respondents[0].supplement_answers[&p1].target_on,
            Some(date!(2027 - 01 - 31))
        );
        assert!(c.respondents[0].completion.is_complete());
        db
    })
    .await;
}

#[tokio::test]
async fn reading_follows_the_policy_and_is_audited() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        add(s, &w.company, w.engagement, "田中", None)
            .await
            .unwrap();
        let reads = audit_count(s, "hospital-data.read").await;
        for ctx in [&w.secretariat, &w.supervisor, &w.company, &as_ctx(&w.staff)] {
            let c = s.engagement_checklist(ctx, w.engagement).await.unwrap();
            assert_eq!(c.hospital, w.hospital);
            assert_eq!(c.respondents.len(), 1);
            assert_eq!(c.framework.as_ref().map(|f| f.id), Some(w.framework.id));
        }
        assert_eq!(audit_count(s, "hospital-data.read").await, reads + 4);
        let denied = audit_count(s, "access.denied").await;
        for ctx in [
            &w.ministry,
            &as_ctx(&w.other_staff),
            &w.other_company,
            &w.early_company,
        ] {
            let err = s.engagement_checklist(ctx, w.engagement).await.unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{err}");
        }
        assert_eq!(audit_count(s, "access.denied").await, denied + 4);
        assert_eq!(audit_count(s, "hospital-data.read").await, reads + 4);
        // After acceptance the ministry reads.
        let e = s
            .engagement_detail(&w.secretariat, w.engagement)
            .await
            .unwrap();
        mamori_store::walk::walk_to(s, &operator(), e.engagement, EngagementState::Accepted)
            .await
            .unwrap();
        s.engagement_checklist(&w.ministry, w.engagement)
            .await
            .unwrap();
        db
    })
    .await;
}

#[tokio::test]
async fn progress_counts_per_engagement_and_ranks_what_was_not_understood() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let w = world(s).await;
        let fid = w.framework.id;
        let unclear = |note: &str| Answer {
            not_understood: note.into(),
            ..yes(TODAY)
        };
        let gate = CellKey::new("0", Scope::Organisation);
        let cso = CellKey::new("1-(1)", Scope::Organisation);
        let backup = CellKey::new("3-(2)", Scope::Organisation);
        // Hospital 1 (company A): two respondents, one submitted.
        let r1 = add(s, &w.company, w.engagement, "田中", None)
            .await
            .unwrap();
        let mut all = all_yes(&hospital_form(&w), TODAY);
        all.insert(cso.clone(), unclear("責任者の意味"));
        all.insert(backup.clone(), unclear("オフラインの意味"));
        s.import_answers(&w.company, r1.id, fid, &all)
            .await
            .unwrap();
        s.submit_self_assessment(&w.company, r1.id).await.unwrap();
        let r2 = add(s, &w.company, w.engagement, "森", None).await.unwrap();
        s.save_answer(&w.company, r2.id, fid, &cso, &unclear("責任者の意味"))
            .await
            .unwrap();
        // Hospital 2 (company B).
        let r3 = add(s, &w.other_company, w.other_engagement, "林", None)
            .await
            .unwrap();
        s.save_answer(
            &w.other_company,
            r3.id,
            fid,
            &cso,
            &unclear("誰を置けばよいか"),
        )
        .await
        .unwrap();
        s.save_answer(&w.other_company, r3.id, fid, &gate, &yes(TODAY))
            .await
            .unwrap();

        let reads = audit_count(s, "hospital-data.read").await;
        let p = s
            .checklist_progress(&w.secretariat, w.programme)
            .await
            .unwrap();
        assert_eq!(p.engagements.len(), 4, "every engagement of the programme");
        let one = p
            .engagements
            .iter()
            .find(|e| e.engagement == w.engagement)
            .unwrap();
        assert_eq!(one.hospital_name, "島根中央病院");
        assert_eq!(one.company_name, "調査A社");
        assert_eq!(one.state, EngagementState::Surveying);
        assert_eq!((one.respondents, one.submitted), (2, 1));
        let cells = hospital_form(&w).cells().count();
        assert_eq!(one.completion.applicable, 2 * cells);
        assert_eq!(one.completion.answered, cells + 1);
        assert_eq!(one.completion.not_understood, 3);
        assert_eq!(p.not_understood.len(), 2);
        let top = &p.not_understood[0];
        assert_eq!(
            (
                top.framework_id,
                top.form_key.as_str(),
                top.item_number.as_str()
            ),
            (fid, "hospital", "1-(1)")
        );
        assert_eq!(top.hospitals, 2);
        assert_eq!(top.notes, ["責任者の意味", "誰を置けばよいか"]);
        assert!(top.text_ja.contains("安全管理責任者"));
        assert_eq!(p.not_understood[1].item_number, "3-(2)");
        assert_eq!(p.not_understood[1].hospitals, 1);
        // One read per hospital shown.
        assert_eq!(audit_count(s, "hospital-data.read").await, reads + 4);

        // A company sees its contracted hospitals only; the hospital its own.
        let p = s.checklist_progress(&w.company, w.programme).await.unwrap();
        let mut shown: Vec<_> = p.engagements.iter().map(|e| e.engagement).collect();
        shown.sort();
        assert_eq!(shown, [w.engagement, w.third]);
        assert_eq!(p.not_understood[0].hospitals, 1);
        assert_eq!(p.not_understood[0].notes, ["責任者の意味"]);
        let p = s
            .checklist_progress(&as_ctx(&w.other_staff), w.programme)
            .await
            .unwrap();
        assert_eq!(
            p.engagements
                .iter()
                .map(|e| e.engagement)
                .collect::<Vec<_>>(),
            [w.other_engagement]
        );
        let p = s
            .checklist_progress(&w.early_company, w.programme)
            .await
            .unwrap();
        assert!(p.engagements.is_empty() && p.not_understood.is_empty());
        let p = s
            .checklist_progress(&w.ministry, w.programme)
            .await
            .unwrap();
        assert!(p.engagements.is_empty());
        db
    })
    .await;
}
