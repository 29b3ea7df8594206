//! Store behaviour, run on SQLite and (when configured) PostgreSQL.

use mamori_domain::audit::{AuditAction, ChainBreak};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{Language, OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing;
use mamori_store::{
    AuditContext, AuditFilter, FacilityProfile, LoginOutcome, NewAccount, NewOrganisation,
    SecondFactorOutcome, Store, StoreError, credentials,
};

const PASSWORD: &str = testing::TEST_PASSWORD;

fn operator() -> AuditContext {
    AuditContext::operator("cli:test")
}

async fn org(store: &Store, kind: OrgKind, name: &str) -> mamori_domain::OrgId {
    testing::add_org(store, kind, name).await
}

async fn account(store: &Store, org: mamori_domain::OrgId, email: &str) -> mamori_store::Account {
    testing::add_account(store, org, email, Role::Member).await
}

async fn audit_count(store: &Store) -> usize {
    store
        .audit_page(
            None,
            &AuditFilter {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .records
        .len()
}

#[tokio::test]
async fn migrations_apply_once() {
    testing::each_backend(|db| async move {
        let again = db.store.migrate().await.unwrap();
        assert!(again.applied.is_empty(), "{}", db.label);
        assert_eq!(again.current, 16);
        db
    })
    .await;
}

#[tokio::test]
async fn duplicates_and_bad_input_change_nothing() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        org(s, OrgKind::Secretariat, "事務局").await;
        let before = audit_count(s).await;
        let err = s
            .create_organisation(
                &operator(),
                NewOrganisation {
                    kind: OrgKind::Hospital,
                    name: "事務局".into(),
                    hospital: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate { .. }), "{err}");
        let err = s
            .create_organisation(
                &operator(),
                NewOrganisation {
                    kind: OrgKind::Vendor,
                    name: "   ".into(),
                    hospital: None,
                },
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
        assert_eq!(audit_count(s).await, before, "{}", db.label);
        assert_eq!(s.all_organisations().await.unwrap().len(), 1);
        db
    })
    .await;
}

#[tokio::test]
async fn login_lockout_and_generic_failures() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let company = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let a = account(s, company, "Surveyor@Example.jp").await;
        assert_eq!(a.email, "surveyor@example.jp");
        match s
            .check_login("surveyor@example.jp", PASSWORD, Some("10.0.0.1"))
            .await
            .unwrap()
        {
            LoginOutcome::Success(who) => assert_eq!(who.id, a.id),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.check_login("nobody@example.jp", PASSWORD, Some("10.0.0.1"))
                .await
                .unwrap(),
            LoginOutcome::Failed
        );
        for _ in 0..4 {
            assert_eq!(
                s.check_login("surveyor@example.jp", "wrong password!", Some("10.0.0.2"))
                    .await
                    .unwrap(),
                LoginOutcome::Failed
            );
        }
        assert_eq!(
            s.check_login("surveyor@example.jp", "wrong password!", Some("10.0.0.2"))
                .await
                .unwrap(),
            LoginOutcome::LockedOut
        );
        // Locked: even the right password is refused until an admin unlocks.
        assert_eq!(
            s.check_login("surveyor@example.jp", PASSWORD, Some("10.0.0.2"))
                .await
                .unwrap(),
            LoginOutcome::LockedOut
        );
        s.unlock_account(&operator(), a.id).await.unwrap();
        assert!(matches!(
            s.check_login("surveyor@example.jp", PASSWORD, Some("10.0.0.2"))
                .await
                .unwrap(),
            LoginOutcome::Success(_)
        ));
        let failed = s
            .audit_page(
                None,
                &AuditFilter {
                    action: Some("login.failed".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // One unknown e-mail, five wrong passwords, one attempt while locked.
        assert_eq!(failed.records.len(), 7, "{}", db.label);
        assert!(
            failed
                .records
                .iter()
                .any(|r| r.content.actor_label == "nobody@example.jp")
        );
        db
    })
    .await;
}

#[tokio::test]
async fn login_throttle_per_client_address() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let mut outcomes = Vec::new();
        for _ in 0..32 {
            outcomes.push(
                s.check_login("x@example.jp", "nope nope nope", Some("192.0.2.9"))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(outcomes[0], LoginOutcome::Failed);
        assert_eq!(outcomes[31], LoginOutcome::Throttled);
        // Another address is not affected.
        assert_eq!(
            s.check_login("x@example.jp", "nope nope nope", Some("192.0.2.10"))
                .await
                .unwrap(),
            LoginOutcome::Failed
        );
        db
    })
    .await;
}

#[tokio::test]
async fn totp_second_factor_and_recovery_codes() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let sec = org(s, OrgKind::Secretariat, "事務局").await;
        let a = account(s, sec, "admin@example.jp").await;
        let ctx = AuditContext::for_actor(a.actor(), &a.email, None);
        let enrolment = s.begin_totp_enrolment(&ctx, &a).await.unwrap();
        assert!(s.confirm_totp(&ctx, &a, "000000x").await.unwrap().is_none());
        let now = (mamori_store::now_ms() / 1000) as u64;
        let code = credentials::totp_code(&enrolment.secret, now).unwrap();
        let codes = s
            .confirm_totp(&ctx, &a, &code)
            .await
            .unwrap()
            .expect("confirmed");
        assert_eq!(codes.len(), 10);
        let a = s.account(a.id).await.unwrap();
        assert!(a.totp_enabled);
        let LoginOutcome::SecondFactorRequired(a) = s
            .check_login("admin@example.jp", PASSWORD, None)
            .await
            .unwrap()
        else {
            panic!("second factor expected")
        };
        // The code used to confirm cannot be replayed.
        assert_eq!(
            s.check_second_factor(&ctx, &a, &code).await.unwrap(),
            SecondFactorOutcome::Wrong
        );
        assert_eq!(
            s.check_second_factor(&ctx, &a, &codes[0].to_uppercase())
                .await
                .unwrap(),
            SecondFactorOutcome::Accepted
        );
        assert_eq!(
            s.check_second_factor(&ctx, &a, &codes[0]).await.unwrap(),
            SecondFactorOutcome::Wrong
        );
        assert_eq!(s.recovery_codes_left(a.id).await.unwrap(), 9);
        assert!(!s.disable_totp(&ctx, &a, "not my password").await.unwrap());
        assert!(s.disable_totp(&ctx, &a, PASSWORD).await.unwrap());
        assert!(matches!(
            s.check_login("admin@example.jp", PASSWORD, None)
                .await
                .unwrap(),
            LoginOutcome::Success(_)
        ));
        db
    })
    .await;
}

/// The stored TOTP secret as the database holds it, read behind the store's back.
async fn raw_totp_secret(url: &str, account: mamori_domain::AccountId) -> Option<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let stored = sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE id = $1")
        .bind(account.0)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    stored
}

#[tokio::test]
async fn totp_secrets_are_sealed_with_the_configured_key() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let sec = org(s, OrgKind::Secretariat, "事務局").await;
        let a = account(s, sec, "admin@example.jp").await;
        let ctx = AuditContext::for_actor(a.actor(), &a.email, None);
        let enrolment = s.begin_totp_enrolment(&ctx, &a).await.unwrap();
        let stored = raw_totp_secret(&db.url, a.id).await.expect("stored");
        assert!(stored.starts_with("sealed1:"), "{stored}");
        assert!(!stored.contains(&enrolment.secret));

        // The database alone does not give the secret away.
        let without_key = Store::connect(&db.url).await.unwrap();
        assert!(matches!(
            without_key.pending_totp_enrolment(&a).await,
            Err(StoreError::BadSecretKey(_))
        ));
        let other_key = mamori_store::secret_key::SecretKey::generate_text();
        let wrong = Store::connect(&db.url)
            .await
            .unwrap()
            .with_secret_key(mamori_store::secret_key::SecretKey::from_text(&other_key).unwrap());
        let refused = wrong
            .pending_totp_enrolment(&a)
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("MAMORI_SECRET_KEY"), "{refused}");
        assert_eq!(
            s.pending_totp_enrolment(&a)
                .await
                .unwrap()
                .expect("pending")
                .secret,
            enrolment.secret
        );

        // A secret stored plain before the key was configured is sealed at
        // the next start and still works.
        let plain = credentials::new_totp_secret();
        {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
            sqlx::query("UPDATE accounts SET totp_secret = $1 WHERE id = $2")
                .bind(&plain)
                .bind(a.id.0)
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        assert_eq!(s.seal_plain_totp_secrets().await.unwrap(), 1);
        assert_eq!(s.seal_plain_totp_secrets().await.unwrap(), 0);
        let resealed = raw_totp_secret(&db.url, a.id).await.expect("stored");
        assert!(resealed.starts_with("sealed1:") && !resealed.contains(&plain));
        assert_eq!(
            s.pending_totp_enrolment(&a)
                .await
                .unwrap()
                .expect("pending")
                .secret,
            plain
        );
        db
    })
    .await;
}

#[tokio::test]
async fn sessions_tokens_and_logout_everywhere() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let sec = org(s, OrgKind::Secretariat, "事務局").await;
        let a = account(s, sec, "admin@example.jp").await;
        let ctx = AuditContext::for_actor(a.actor(), &a.email, None);
        let one = s
            .create_session(&a, false, Some("127.0.0.1"), Some("test"))
            .await
            .unwrap();
        let two = s.create_session(&a, false, None, None).await.unwrap();
        assert_eq!(
            s.session(&one.token).await.unwrap().map(|x| x.account.id),
            Some(a.id)
        );
        assert_eq!(s.sessions_of(a.id).await.unwrap().len(), 2);
        assert_eq!(s.end_all_sessions(&ctx, a.id).await.unwrap(), 2);
        assert!(s.session(&one.token).await.unwrap().is_none());
        assert!(s.session(&two.token).await.unwrap().is_none());

        let (token, record) = s
            .create_api_token(&ctx, a.id, "監視スクリプト")
            .await
            .unwrap();
        assert!(token.starts_with("mamori_"));
        assert_eq!(
            s.account_for_token(&token).await.unwrap().map(|x| x.id),
            Some(a.id)
        );
        assert!(
            s.account_for_token("mamori_forged")
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.revoke_api_token(&ctx, a.id, record.id).await.unwrap());
        assert!(s.account_for_token(&token).await.unwrap().is_none());

        let (second_token, _) = s.create_api_token(&ctx, a.id, "夜間バッチ").await.unwrap();
        let new_password = s.reset_password(&operator(), a.id, None).await.unwrap();
        assert!(
            s.account_for_token(&second_token).await.unwrap().is_none(),
            "a reset ends API tokens too"
        );
        assert!(matches!(
            s.check_login("admin@example.jp", &new_password, None)
                .await
                .unwrap(),
            LoginOutcome::Success(_)
        ));
        db
    })
    .await;
}

#[tokio::test]
async fn hospital_data_goes_through_the_policy_and_is_audited() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let hospital = org(s, OrgKind::Hospital, "島根中央病院").await;
        let company_a = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let company_b = org(s, OrgKind::SurveyCompany, "調査B社").await;
        let a = account(s, company_a, "a@example.jp").await;
        let b = account(s, company_b, "b@example.jp").await;
        let programme = testing::add_programme(s, "令和8年度調査").await;
        let engagement = testing::add_engagement(
            s,
            programme,
            hospital,
            company_a,
            EngagementState::PledgeIssued,
        )
        .await;
        let ctx_a = AuditContext::for_actor(a.actor(), &a.email, None);
        let ctx_b = AuditContext::for_actor(b.actor(), &b.email, None);

        // Before the contract company A may not read the ledger; B never.
        assert!(matches!(
            s.authorize(&ctx_a, hospital, HospitalData::Ledger, Access::Read)
                .await,
            Err(StoreError::Denied(_))
        ));
        mamori_store::walk::walk_to(s, &operator(), engagement, EngagementState::Contracted)
            .await
            .unwrap();
        let write = s
            .authorize(&ctx_a, hospital, HospitalData::Ledger, Access::Write)
            .await
            .unwrap();
        let profile = FacilityProfile {
            it_staff_count: Some(2),
            ehr_vendor: "富士通".into(),
            ..Default::default()
        };
        s.save_facility_profile(&ctx_a, &write, &profile)
            .await
            .unwrap();
        // A read grant does not let one write.
        let read = s
            .authorize(&ctx_a, hospital, HospitalData::Ledger, Access::Read)
            .await
            .unwrap();
        assert!(
            s.save_facility_profile(&ctx_a, &read, &profile)
                .await
                .is_err()
        );
        // A grant is bound to its actor.
        assert!(s.facility_profile(&ctx_b, &read).await.is_err());
        assert_eq!(
            s.facility_profile(&ctx_a, &read).await.unwrap().ehr_vendor,
            "富士通"
        );
        for access in [Access::Read, Access::Write] {
            assert!(matches!(
                s.authorize(&ctx_b, hospital, HospitalData::Ledger, access)
                    .await,
                Err(StoreError::Denied(_))
            ));
        }
        let of_hospital = s
            .audit_page(
                None,
                &AuditFilter {
                    hospital: Some(hospital),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<_> = of_hospital
            .records
            .iter()
            .map(|r| r.content.action.as_str())
            .collect();
        assert!(
            actions.contains(&AuditAction::HospitalDataRead.slug()),
            "{actions:?}"
        );
        assert!(actions.contains(&AuditAction::HospitalDataWritten.slug()));
        assert!(actions.contains(&AuditAction::AccessDenied.slug()));
        // B sees only its own actions in the log.
        let own = s
            .audit_page(
                Some(&b.actor()),
                &AuditFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!own.records.is_empty());
        assert!(
            own.records
                .iter()
                .all(|r| r.content.actor_account == Some(b.id))
        );
        db
    })
    .await;
}

#[tokio::test]
async fn tampering_with_one_audit_row_is_found() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        // The schema's own records (shipped checklist frameworks) come first.
        let base = s.verify_audit_chain().await.unwrap().unwrap();
        for n in 0..5 {
            org(s, OrgKind::Vendor, &format!("ベンダー{n}")).await;
        }
        assert_eq!(s.verify_audit_chain().await.unwrap(), Ok(base + 5));
        let seq = base + 3;
        db.execute_raw(&format!(
            "UPDATE audit_events SET detail = 'kind=vendor name=改竄' WHERE seq = {seq}"
        ))
        .await
        .unwrap();
        assert_eq!(
            s.verify_audit_chain().await.unwrap(),
            Err(ChainBreak::ContentChanged { seq })
        );
        db
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_keep_one_unbroken_chain() {
    testing::each_backend(|db| async move {
        let base = db.store.verify_audit_chain().await.unwrap().unwrap();
        let mut tasks = Vec::new();
        for n in 0..24 {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                s.create_organisation(
                    &AuditContext::operator("cli:test"),
                    NewOrganisation {
                        kind: OrgKind::Vendor,
                        name: format!("並行{n}"),
                        hospital: None,
                    },
                )
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(
            db.store.verify_audit_chain().await.unwrap(),
            Ok(base + 24),
            "{}",
            db.label
        );
        db
    })
    .await;
}

#[tokio::test]
async fn concurrent_reads_and_writes_are_each_recorded_in_one_chain() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let hospital = org(s, OrgKind::Hospital, "並行病院").await;
        let company = org(s, OrgKind::SurveyCompany, "並行調査社").await;
        let programme = testing::add_programme(s, "令和8年度調査").await;
        testing::add_engagement(s, programme, hospital, company, EngagementState::Contracted).await;
        let mut readers = Vec::new();
        for n in 0..6 {
            let reader = account(s, company, &format!("reader{n}@example.jp")).await;
            readers.push(AuditContext::for_actor(reader.actor(), &reader.email, None));
        }
        let base = s.verify_audit_chain().await.unwrap().unwrap();
        let mut tasks = Vec::new();
        for n in 0..60 {
            let s = s.clone();
            let ctx = readers[n % readers.len()].clone();
            tasks.push(tokio::spawn(async move {
                if n % 10 == 0 {
                    s.create_organisation(
                        &operator(),
                        NewOrganisation {
                            kind: OrgKind::Vendor,
                            name: format!("並行ベンダー{n}"),
                            hospital: None,
                        },
                    )
                    .await
                    .map(|_| ())
                } else {
                    let grant = s
                        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Read)
                        .await?;
                    s.facility_profile(&ctx, &grant).await.map(|_| ())
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // 6 writes and 54 reads, each read recorded once by its reader.
        assert_eq!(
            s.verify_audit_chain().await.unwrap(),
            Ok(base + 60),
            "{}",
            db.label
        );
        let log = s
            .audit_page(
                None,
                &AuditFilter {
                    action: Some(AuditAction::HospitalDataRead.slug().to_string()),
                    hospital: Some(hospital),
                    limit: 1_000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for (i, reader) in readers.iter().enumerate() {
            let asked = (0..60)
                .filter(|n| n % 10 != 0 && n % readers.len() == i)
                .count();
            let recorded = log
                .records
                .iter()
                .filter(|r| r.content.actor_label == reader.actor_label)
                .count();
            assert_eq!(recorded, asked, "{} {}", db.label, reader.actor_label);
        }
        db
    })
    .await;
}

#[tokio::test]
async fn people_act_within_the_policy() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let company = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let other = org(s, OrgKind::SurveyCompany, "調査B社").await;
        let member = account(s, company, "member@example.jp").await;
        let ctx = AuditContext::for_actor(member.actor(), &member.email, None);
        let err = s
            .create_organisation(
                &ctx,
                NewOrganisation {
                    kind: OrgKind::Hospital,
                    name: "勝手病院".into(),
                    hospital: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)));
        let err = s
            .create_account(
                &ctx,
                NewAccount {
                    org: other,
                    email: "x@example.jp".into(),
                    display_name: "x".into(),
                    role: Role::Admin,
                    language: Language::Japanese,
                    password: PASSWORD.into(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)));
        assert!(s.accounts_of(&member.actor(), other).await.is_err());
        assert_eq!(s.organisations_visible_to(&ctx).await.unwrap().len(), 1);
        db
    })
    .await;
}

#[tokio::test]
async fn a_grant_dies_with_the_engagement_it_came_from() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let hospital = org(s, OrgKind::Hospital, "島根中央病院").await;
        let company = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let a = account(s, company, "a@example.jp").await;
        let programme = testing::add_programme(s, "令和8年度調査").await;
        let engagement =
            testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying)
                .await;
        let ctx = AuditContext::for_actor(a.actor(), &a.email, None);
        let grant = s
            .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
            .await
            .unwrap();
        s.transition(
            &operator(),
            engagement.id,
            EngagementState::Withdrawn,
            None,
            "",
        )
        .await
        .unwrap();
        let err = s
            .save_facility_profile(&ctx, &grant, &FacilityProfile::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{}: {err}", db.label);
        db
    })
    .await;
}

#[tokio::test]
async fn listing_engagements_is_a_read_of_each_hospital() {
    testing::each_backend(|db| async move {
        let s = &db.store;
        let h1 = org(s, OrgKind::Hospital, "病院一").await;
        let h2 = org(s, OrgKind::Hospital, "病院二").await;
        let company = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let other = org(s, OrgKind::SurveyCompany, "調査B社").await;
        let programme = testing::add_programme(s, "令和8年度調査").await;
        testing::add_engagement(s, programme, h1, company, EngagementState::PledgeIssued).await;
        testing::add_engagement(s, programme, h2, other, EngagementState::Surveying).await;
        let a = account(s, company, "a@example.jp").await;
        let ctx = AuditContext::for_actor(a.actor(), &a.email, None);
        let seen = s.engagements_visible_to(&ctx).await.unwrap();
        assert_eq!(
            seen.iter().map(|e| e.hospital_id).collect::<Vec<_>>(),
            vec![h1]
        );
        let reads = s
            .audit_page(
                None,
                &AuditFilter {
                    action: Some("hospital-data.read".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(reads.records.len(), 1, "{}", db.label);
        assert_eq!(reads.records[0].content.hospital, Some(h1));
        db
    })
    .await;
}

mod lifecycle {
    use super::*;
    use mamori_domain::agreement::{AgreementKind, EstimateFigures};
    use mamori_domain::lifecycle::{Gate, TransitionRefused};
    use mamori_store::walk::walk_to;
    use time::macros::date;

    struct World {
        hospital: mamori_domain::OrgId,
        secretariat: AuditContext,
        company: AuditContext,
        other_company: AuditContext,
        supervisor: AuditContext,
        engagement: mamori_store::Engagement,
    }

    async fn world(s: &Store) -> World {
        let hospital = org(s, OrgKind::Hospital, "島根中央病院").await;
        let company = org(s, OrgKind::SurveyCompany, "調査A社").await;
        let other = org(s, OrgKind::SurveyCompany, "調査B社").await;
        let sec_org = org(s, OrgKind::Secretariat, "研究事務局").await;
        let sup_org = org(s, OrgKind::Supervisor, "監督企業").await;
        let ctx = |a: mamori_store::Account| AuditContext::for_actor(a.actor(), &a.email, None);
        let secretariat = ctx(account(s, sec_org, "sec@example.jp").await);
        let company_ctx = ctx(account(s, company, "a@example.jp").await);
        let other_company = ctx(account(s, other, "b@example.jp").await);
        let supervisor = ctx(account(s, sup_org, "sup@example.jp").await);
        let programme = testing::add_programme(s, "令和8年度調査").await;
        let engagement = s
            .add_candidate(
                &secretariat,
                &mamori_store::NewCandidate {
                    programme,
                    hospital,
                    company,
                    details: mamori_store::CandidateDetails {
                        contact_name: "出雲 花子".into(),
                        contact_department: "医療情報部".into(),
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap();
        World {
            hospital,
            secretariat,
            company: company_ctx,
            other_company,
            supervisor,
            engagement,
        }
    }

    #[tokio::test]
    async fn transitions_belong_to_their_owner_and_wait_for_their_papers() {
        testing::each_backend(|db| async move {
            let s = &db.store;
            s.clock().set_today(date!(2026 - 11 - 10));
            let w = world(s).await;
            let id = w.engagement.id;
            // The company cannot confirm the hospital's intent.
            let err = s
                .transition(&w.company, id, EngagementState::IntentConfirmed, None, "")
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Transition(TransitionRefused::NotOwner { .. })),
                "{err}"
            );
            // Not a step from candidate: the allowed ones are named.
            let err = s
                .transition(&w.secretariat, id, EngagementState::Surveying, None, "")
                .await
                .unwrap_err();
            assert!(err.to_string().contains("intent-confirmed"), "{err}");
            let e = s
                .transition(
                    &w.secretariat,
                    id,
                    EngagementState::IntentConfirmed,
                    Some(date!(2026 - 11 - 09)),
                    "日本病院会の意向調査で協力の申出",
                )
                .await
                .unwrap();
            assert_eq!(e.intent_confirmed_on, Some(date!(2026 - 11 - 09)));
            // The pledge step waits for the pledge.
            let err = s
                .transition(&w.secretariat, id, EngagementState::PledgeIssued, None, "")
                .await
                .unwrap_err();
            assert!(matches!(
                err,
                StoreError::Transition(TransitionRefused::GatesNotMet { ref missing, .. })
                    if missing == &vec![Gate::PledgeIssued]
            ));
            s.issue_agreement(
                &w.secretariat,
                id,
                AgreementKind::Pledge,
                None,
                date!(2026 - 11 - 10),
                date!(2027 - 03 - 31),
            )
            .await
            .unwrap();
            s.transition(&w.secretariat, id, EngagementState::PledgeIssued, None, "")
                .await
                .unwrap();
            let err = s
                .transition(&w.secretariat, id, EngagementState::Contracted, None, "")
                .await
                .unwrap_err();
            assert!(matches!(
                err,
                StoreError::Transition(TransitionRefused::GatesNotMet { ref missing, .. })
                    if missing == &vec![Gate::CompanyConfirmed, Gate::NdaInForce, Gate::OrderIssued]
            ), "{err}");
            let detail = s.engagement_detail(&w.secretariat, id).await.unwrap();
            assert_eq!(detail.transitions.len(), 2);
            assert_eq!(detail.transitions[0].note, "日本病院会の意向調査で協力の申出");
            // A refused step changed nothing.
            assert_eq!(detail.engagement.state, EngagementState::PledgeIssued);
            db
        })
        .await;
    }

    #[tokio::test]
    async fn the_survey_data_gate_opens_with_nda_and_order_and_closes_with_the_nda() {
        testing::each_backend(|db| async move {
            let s = &db.store;
            s.clock().set_today(date!(2026 - 11 - 20));
            let w = world(s).await;
            let id = w.engagement.id;
            let ledger = |ctx: AuditContext| async move {
                s.authorize(&ctx, w.hospital, HospitalData::Ledger, Access::Read)
                    .await
                    .is_ok()
            };
            let e = walk_to(
                s,
                &operator(),
                w.engagement.clone(),
                EngagementState::PledgeIssued,
            )
            .await
            .unwrap();
            assert!(!ledger(w.company.clone()).await);
            s.confirm_company(&w.secretariat, id, date!(2026 - 11 - 20))
                .await
                .unwrap();
            // An NDA ending before it starts, or signed tomorrow, is refused by field.
            let err = s
                .issue_agreement(
                    &w.secretariat,
                    id,
                    AgreementKind::Nda,
                    None,
                    date!(2026 - 12 - 01),
                    date!(2026 - 11 - 30),
                )
                .await
                .unwrap_err();
            assert!(err.to_string().starts_with("valid_until"), "{err}");
            let nda = s
                .issue_agreement(
                    &w.secretariat,
                    id,
                    AgreementKind::Nda,
                    None,
                    date!(2026 - 11 - 20),
                    date!(2027 - 03 - 31),
                )
                .await
                .unwrap();
            let err = s
                .sign_agreement(&w.secretariat, nda.id, date!(2026 - 11 - 21), None)
                .await
                .unwrap_err();
            assert!(err.to_string().starts_with("signed_on"), "{err}");
            // The company cannot sign on the secretariat's behalf, nor see another's.
            assert!(
                s.sign_agreement(&w.company, nda.id, date!(2026 - 11 - 20), None)
                    .await
                    .is_err()
            );
            s.sign_agreement(&w.secretariat, nda.id, date!(2026 - 11 - 20), None)
                .await
                .unwrap();
            // Over the cap: refused with both amounts; nothing stored.
            let over = EstimateFigures {
                labour_hours: 320.0,
                labour_cost_yen: 3_200_000,
                trips: 4,
                travel_yen: 80_000,
                consumables_yen: 5_000,
            };
            let err = s
                .submit_estimate(&w.company, id, &over, "")
                .await
                .unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("¥3,200,000") && message.contains("¥3,000,000"),
                "{message}"
            );
            assert!(
                s.submit_estimate(
                    &w.other_company,
                    id,
                    &EstimateFigures {
                        labour_cost_yen: 2_000_000,
                        ..over
                    },
                    ""
                )
                .await
                .is_err()
            );
            let estimate = s
                .submit_estimate(
                    &w.company,
                    id,
                    &EstimateFigures {
                        labour_cost_yen: 2_000_000,
                        ..over
                    },
                    "出張4回",
                )
                .await
                .unwrap();
            assert!(
                !ledger(w.company.clone()).await,
                "NDA alone does not open the gate"
            );
            s.issue_order(
                &w.secretariat,
                id,
                estimate.id,
                "PO-2026-001",
                date!(2026 - 11 - 20),
            )
            .await
            .unwrap();
            // The order alone does not either, while the state is not contracted.
            assert!(!ledger(w.company.clone()).await);
            s.transition(&w.secretariat, e.id, EngagementState::Contracted, None, "")
                .await
                .unwrap();
            assert!(ledger(w.company.clone()).await);
            assert!(!ledger(w.other_company.clone()).await);
            // The day after the NDA ends, the gate is closed again…
            s.clock().set_today(date!(2027 - 04 - 01));
            assert!(!ledger(w.company.clone()).await);
            s.clock().set_today(date!(2027 - 03 - 31));
            assert!(ledger(w.company.clone()).await);
            // …and a revoked NDA closes it at once.
            s.revoke_agreement(&w.secretariat, nda.id, "病院からの要請")
                .await
                .unwrap();
            assert!(!ledger(w.company.clone()).await);
            let detail = s.engagement_detail(&w.secretariat, id).await.unwrap();
            assert!(!detail.gates.nda_in_force && detail.gates.order_issued);
            assert!(!detail.engagement.contract_in_force);
            // The supervisor reads the engagement but takes only its own steps.
            assert!(s.engagement_detail(&w.supervisor, id).await.is_ok());
            assert!(
                s.transition(&w.supervisor, id, EngagementState::Scheduling, None, "")
                    .await
                    .is_err()
            );
            db
        })
        .await;
    }

    #[tokio::test]
    async fn deadlines_follow_the_clock_and_notify_once() {
        testing::each_backend(|db| async move {
            let s = &db.store;
            s.clock().set_today(date!(2026 - 11 - 02));
            let w = world(s).await;
            s.transition(
                &w.secretariat,
                w.engagement.id,
                EngagementState::IntentConfirmed,
                None,
                "",
            )
            .await
            .unwrap();
            let secretariat = &w.secretariat;
            let overdue = |day| async move {
                s.clock().set_today(day);
                s.engagement_overview(
                    secretariat,
                    &mamori_store::EngagementFilter {
                        overdue_only: true,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .len()
            };
            assert_eq!(overdue(date!(2026 - 11 - 14)).await, 0);
            // 15 Nov: the target hospitals are decided (intent confirmed): still fine.
            assert_eq!(overdue(date!(2026 - 11 - 16)).await, 0);
            // 1 Dec: contracts were due on 30 Nov.
            assert_eq!(overdue(date!(2026 - 12 - 01)).await, 1);
            let first = s.check_deadlines().await.unwrap();
            assert!(first > 0);
            assert_eq!(
                s.check_deadlines().await.unwrap(),
                0,
                "each deadline is notified once"
            );
            let company_account = w.company.actor.unwrap().account;
            let notes = s.notifications_for(company_account, 50).await.unwrap();
            assert!(
                notes
                    .iter()
                    .any(|n| n.kind == mamori_store::NotificationKind::DeadlineOverdue)
            );
            let mails = s.outbox(&w.secretariat, 100).await.unwrap();
            assert!(mails.iter().any(|m| m.to_address == "a@example.jp"));
            assert!(s.outbox(&w.company, 10).await.is_err());
            // Mail is claimed once across senders.
            let claimed = s.claim_mail(1000, 60_000).await.unwrap();
            assert_eq!(claimed.len(), mails.len());
            assert!(s.claim_mail(1000, 60_000).await.unwrap().is_empty());
            s.finish_mail(claimed[0].id, None).await.unwrap();
            db
        })
        .await;
    }
}

/// A foundation-era database with engagements upgrades to programmes with
/// nothing lost: each engagement lands in one programme made for them.
#[tokio::test]
async fn upgrading_from_the_foundation_schema_keeps_every_engagement() {
    for db in testing::all_at(1).await {
        let label = db.label;
        let h = org(&db.store, OrgKind::Hospital, "旧病院").await;
        let c = org(&db.store, OrgKind::SurveyCompany, "旧調査社").await;
        db.execute_raw(&format!(
            "INSERT INTO engagements (hospital_id, company_id, state, created_at, updated_at) VALUES ({h}, {c}, 'surveying', 1, 1)"
        ))
        .await
        .unwrap();
        let report = db.store.migrate().await.unwrap();
        assert_eq!(
            report.applied,
            vec![
                (2, "lifecycle"),
                (3, "checklists"),
                (4, "ledger"),
                (5, "deliverables"),
                (6, "review"),
                (7, "report"),
                (8, "labour"),
                (9, "advisories"),
                (10, "advisory-matches"),
                (11, "match-triage"),
                (12, "advisory-response"),
                (13, "statistics"),
                (14, "data-returns"),
                (15, "background-jobs"),
                (16, "list-indexes")
            ],
            "{label}"
        );
        let seen = db.store.engagements_visible_to(&operator()).await.unwrap();
        assert_eq!(seen.len(), 1, "{label}");
        assert_eq!(seen[0].state, EngagementState::Surveying);
        assert_eq!(seen[0].hospital_name, "旧病院");
        assert!(seen[0].programme_name.contains("before programmes"));
        // The same pair may be surveyed again in a new programme.
        let programme = testing::add_programme(&db.store, "令和9年度調査").await;
        testing::add_engagement(&db.store, programme, h, c, EngagementState::Candidate).await;
        db.finish().await;
    }
}
