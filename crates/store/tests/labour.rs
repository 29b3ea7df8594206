//! Labour hours as stored, on SQLite and (when configured) PostgreSQL: the
//! default plan and its edit, entries refused when negative, in the future,
//! over 24 hours a day or in a locked week; weekly reports acknowledged by
//! the supervisor; unreported weeks and the 80 %/100 % alerts with a
//! controlled clock; and who sees a company's hours.

use mamori_domain::audit::AuditAction;
use mamori_domain::engagement::EngagementState;
use mamori_domain::labour::{AlertKind, Hours, LabourEntry, LabourPlan, WeekState, WeekStep};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{DomainError, OrgId};
use mamori_store::testing::{self, TestDb};
use mamori_store::{Account, AuditContext, AuditFilter, Engagement, Store, StoreError};
use time::Date;
use time::macros::date;

struct World {
    hospital: OrgId,
    engagement: Engagement,
    company: Account,
    other_company: Account,
    supervisor: Account,
    secretariat: Account,
    staff: Account,
}

fn ctx(a: &Account) -> AuditContext {
    AuditContext::for_actor(a.actor(), a.email.clone(), None)
}

/// Contracted on Monday 2026-12-07.
async fn world(db: &TestDb) -> World {
    let s = &db.store;
    s.clock().set_today(date!(2026 - 12 - 07));
    let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
    let other = testing::add_org(s, OrgKind::SurveyCompany, "調査B社").await;
    let supervisor = testing::add_org(s, OrgKind::Supervisor, "監督企業").await;
    let secretariat = testing::add_org(s, OrgKind::Secretariat, "事務局").await;
    let hospital = testing::add_org(s, OrgKind::Hospital, "湖畔病院").await;
    let programme = testing::add_programme(s, "令和8年度 調査").await;
    let engagement =
        testing::add_engagement(s, programme, hospital, company, EngagementState::Surveying).await;
    World {
        hospital,
        engagement,
        company: testing::add_account(s, company, "a@example.jp", Role::Member).await,
        other_company: testing::add_account(s, other, "b@example.jp", Role::Member).await,
        supervisor: testing::add_account(s, supervisor, "sup@example.jp", Role::Member).await,
        secretariat: testing::add_account(s, secretariat, "sec@example.jp", Role::Member).await,
        staff: testing::add_account(s, hospital, "h@example.jp", Role::Member).await,
    }
}

async fn grant(s: &Store, who: &Account, hospital: OrgId, access: Access) -> HospitalGrant {
    s.authorize(&ctx(who), hospital, HospitalData::LabourHours, access)
        .await
        .expect("labour grant")
}

fn entry(row: u8, person: &str, day: Date, hours: &str) -> LabourEntry {
    LabourEntry {
        row,
        person: person.into(),
        worked_on: day,
        hours: Hours::parse(hours).unwrap(),
        note: String::new(),
    }
}

async fn book(s: &Store, w: &World, e: LabourEntry) -> Result<i64, StoreError> {
    let g = grant(s, &w.company, w.hospital, Access::Write).await;
    s.add_labour_entry(&ctx(&w.company), &g, w.engagement.id, &e)
        .await
        .map(|r| r.id)
}

fn refused(result: Result<i64, StoreError>) -> String {
    match result {
        Err(StoreError::Invalid(DomainError::Invalid { reason, .. })) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn hours_are_booked_checked_reported_and_locked() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let id = w.engagement.id;
        s.clock().set_today(date!(2026 - 12 - 10));
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let labour = s.labour(&ctx(&w.company), &g, id).await.unwrap();
        assert_eq!(labour.plan.total(), Hours::from_whole(200));
        assert_eq!(labour.rate_yen, 10_000, "2,000,000 yen for 200 hours");
        assert_eq!(labour.summary.cap_yen, 3_000_000);

        // The company plans travel and meetings.
        let plan =
            LabourPlan::with(&[(15, Hours::from_whole(8)), (16, Hours::from_whole(4))]).unwrap();
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        let saved = s
            .save_labour_plan(&ctx(&w.company), &g, id, &plan)
            .await
            .unwrap();
        assert_eq!(saved.plan.total(), Hours::from_whole(212));

        book(s, &w, entry(1, "鈴木", date!(2026 - 12 - 08), "6"))
            .await
            .unwrap();
        book(s, &w, entry(17, "鈴木", date!(2026 - 12 - 08), "2.5"))
            .await
            .unwrap();
        let kept = book(s, &w, entry(3, "佐藤", date!(2026 - 12 - 09), "3"))
            .await
            .unwrap();
        // Bad input: each refused with its reason, nothing written.
        assert!(
            refused(book(s, &w, entry(1, "鈴木", date!(2026 - 12 - 08), "-1")).await)
                .contains("negative")
        );
        assert!(
            refused(book(s, &w, entry(1, "鈴木", date!(2026 - 12 - 08), "16")).await)
                .contains("24.50")
        );
        assert!(
            refused(book(s, &w, entry(1, "鈴木", date!(2026 - 12 - 11), "1")).await)
                .contains("future")
        );
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        let labour = s.labour(&ctx(&w.company), &g, id).await.unwrap();
        assert_eq!(labour.entries.len(), 3);
        assert_eq!(labour.summary.actual, Hours::parse("11.5").unwrap());

        // A future week cannot be reported; this one can, by the company only.
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(
            s.labour_week_step(
                &ctx(&w.company),
                &g,
                id,
                date!(2026 - 12 - 14),
                WeekStep::Submit,
                ""
            )
            .await
            .is_err()
        );
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        s.labour_week_step(
            &ctx(&w.company),
            &g,
            id,
            date!(2026 - 12 - 07),
            WeekStep::Submit,
            "",
        )
        .await
        .unwrap();
        assert!(
            s.authorize(
                &ctx(&w.company),
                w.hospital,
                HospitalData::LabourHours,
                Access::Review
            )
            .await
            .is_err()
        );
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let acknowledged = s
            .labour_week_step(
                &ctx(&w.supervisor),
                &g,
                id,
                date!(2026 - 12 - 07),
                WeekStep::Acknowledge,
                "確認",
            )
            .await
            .unwrap();
        assert_eq!(
            acknowledged.week_state(date!(2026 - 12 - 07)),
            WeekState::Acknowledged
        );
        // Locked: neither booking nor removing in that week.
        assert!(
            refused(book(s, &w, entry(1, "佐藤", date!(2026 - 12 - 09), "1")).await)
                .contains("locked")
        );
        let g = grant(s, &w.company, w.hospital, Access::Write).await;
        assert!(matches!(
            s.remove_labour_entry(&ctx(&w.company), &g, id, kept).await,
            Err(StoreError::Invalid(_))
        ));
        let g = grant(s, &w.supervisor, w.hospital, Access::Review).await;
        let err = s
            .labour_week_step(
                &ctx(&w.supervisor),
                &g,
                id,
                date!(2026 - 12 - 07),
                WeekStep::Return,
                "",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

        let audited = s
            .audit_page(
                None,
                &AuditFilter {
                    action: Some(AuditAction::LabourHoursRecorded.slug().to_string()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .records
            .len();
        assert_eq!(audited, 3);
        db
    })
    .await;
}

#[tokio::test]
async fn unreported_weeks_and_the_thresholds_raise_alerts() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        let id = w.engagement.id;
        let alerts = |today: Date| {
            let (w, s) = (&w, s);
            async move {
                s.clock().set_today(today);
                let g = grant(s, &w.supervisor, w.hospital, Access::Read).await;
                s.labour(&ctx(&w.supervisor), &g, id)
                    .await
                    .unwrap()
                    .summary
                    .alerts
                    .iter()
                    .map(|a| (a.kind, a.detail.clone()))
                    .collect::<Vec<_>>()
            }
        };
        // The week of the contract is still running: nothing is missing.
        assert!(alerts(date!(2026 - 12 - 09)).await.is_empty());
        // Two weeks later, the first week was never reported.
        let later = alerts(date!(2026 - 12 - 16)).await;
        assert_eq!(later, [(AlertKind::MissingWeek, "2026-12-07".to_string())]);

        // 159 hours: under 80 %; 160: warning; 201: over the plan.
        s.clock().set_today(date!(2026 - 12 - 16));
        for (n, day) in [
            date!(2026 - 12 - 07),
            date!(2026 - 12 - 08),
            date!(2026 - 12 - 09),
        ]
        .iter()
        .enumerate()
        {
            for person in ["A", "B"] {
                book(s, &w, entry(17, &format!("{person}{n}"), *day, "20"))
                    .await
                    .unwrap();
            }
        }
        // 120 hours so far.
        book(s, &w, entry(16, "C", date!(2026 - 12 - 10), "20"))
            .await
            .unwrap();
        book(s, &w, entry(16, "D", date!(2026 - 12 - 10), "19"))
            .await
            .unwrap();
        let below: Vec<AlertKind> = alerts(date!(2026 - 12 - 16))
            .await
            .into_iter()
            .map(|a| a.0)
            .collect();
        assert_eq!(below, [AlertKind::MissingWeek]);
        book(s, &w, entry(16, "E", date!(2026 - 12 - 10), "1"))
            .await
            .unwrap();
        let warned = alerts(date!(2026 - 12 - 16)).await;
        assert_eq!(warned[0], (AlertKind::PlanWarning, "80%".to_string()));
        book(s, &w, entry(16, "F", date!(2026 - 12 - 11), "20"))
            .await
            .unwrap();
        book(s, &w, entry(16, "G", date!(2026 - 12 - 11), "20"))
            .await
            .unwrap();
        book(s, &w, entry(16, "H", date!(2026 - 12 - 11), "1"))
            .await
            .unwrap();
        let over = alerts(date!(2026 - 12 - 16)).await;
        assert_eq!(over[0].0, AlertKind::PlanExceeded);
        db
    })
    .await;
}

#[tokio::test]
async fn only_the_company_the_supervisor_and_the_secretariat_see_the_hours() {
    testing::each_backend(|db| async move {
        let w = world(&db).await;
        let s = &db.store;
        s.clock().set_today(date!(2026 - 12 - 09));
        book(s, &w, entry(1, "鈴木", date!(2026 - 12 - 08), "6"))
            .await
            .unwrap();
        for who in [&w.company, &w.supervisor, &w.secretariat] {
            let rollup = s.labour_rollup(&ctx(who)).await.unwrap();
            assert_eq!(rollup.len(), 1, "{}", who.email);
            assert_eq!(rollup[0].summary.actual, Hours::from_whole(6));
        }
        assert!(
            s.labour_rollup(&ctx(&w.other_company))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.labour_rollup(&ctx(&w.staff)).await.unwrap().is_empty());
        for who in [&w.other_company, &w.staff] {
            assert!(
                s.authorize(
                    &ctx(who),
                    w.hospital,
                    HospitalData::LabourHours,
                    Access::Read
                )
                .await
                .is_err(),
                "{}",
                who.email
            );
        }
        // The secretariat reads but does not book.
        assert!(
            s.authorize(
                &ctx(&w.secretariat),
                w.hospital,
                HospitalData::LabourHours,
                Access::Write
            )
            .await
            .is_err()
        );
        // The secretariat sets the company's rate; others may not.
        s.set_labour_rate(
            &ctx(&w.secretariat),
            w.engagement.programme_id,
            w.engagement.company_id,
            12_000,
        )
        .await
        .unwrap();
        assert!(
            s.set_labour_rate(
                &ctx(&w.company),
                w.engagement.programme_id,
                w.engagement.company_id,
                1
            )
            .await
            .is_err()
        );
        let g = grant(s, &w.company, w.hospital, Access::Read).await;
        assert_eq!(
            s.labour(&ctx(&w.company), &g, w.engagement.id)
                .await
                .unwrap()
                .rate_yen,
            12_000
        );
        db
    })
    .await;
}
