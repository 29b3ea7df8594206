//! Labour hours through the pages, on every backend, with a controlled
//! clock: the company books its week in the browser and reports it; the
//! supervisor sees it in the roll-up, acknowledges it (after which the week
//! is locked); bad input is refused with its reason; the alerts fire at
//! 80 % and 100 % of the plan; the 資料6 sheet reads back with its 17 rows
//! and totals; only the company itself, the supervisor and the secretariat
//! see the hours.

mod common;

use common::{Browser, PASSWORD, TestApp};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use time::macros::date;

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> Browser {
    app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    b
}

#[tokio::test]
async fn a_week_is_booked_reported_rolled_up_acknowledged_and_exported() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        store.clock().set_today(date!(2026 - 12 - 07));
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let other_company = app.org(OrgKind::SurveyCompany, "いわみ診断").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "監督企業").await;
        let secretariat_org = app.org(OrgKind::Secretariat, "事務局").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let eid = e.id.0;
        let base = format!("/engagements/{eid}/labour");
        store.clock().set_today(date!(2026 - 12 - 10));
        let co = signed_in(&app, company, "co@example.jp").await;
        let sup = signed_in(&app, supervisor_org, "sup@example.jp").await;
        let sec = signed_in(&app, secretariat_org, "sec@example.jp").await;
        let other = signed_in(&app, other_company, "other@example.jp").await;
        let staff = signed_in(&app, hospital, "staff@example.jp").await;

        // The sheet: 17 rows, 200 hours planned.
        let page = co.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(
            page.body.contains("その他(事前調査、進捗報告など)"),
            "{label}"
        );
        assert!(page.body.contains("200.00"), "{label}");
        assert!(page.body.contains("name=\"row_17\""), "{label}");

        // The company books two days of its week in the browser.
        for (row, day, hours) in [("1", "2026-12-08", "6"), ("3", "2026-12-09", "4.5")] {
            let done = co
                .submit(
                    &base,
                    &format!("{base}/entries"),
                    &[
                        ("row", row),
                        ("person", "鈴木 一郎"),
                        ("worked_on", day),
                        ("hours", hours),
                        ("note", "ヒアリング"),
                    ],
                )
                .await;
            assert_eq!(done.status, 303, "{label}: {}", done.body);
        }
        // Bad input: refused with the reason, nothing booked.
        for (hours, day, reason) in [
            ("-1", "2026-12-08", "negative"),
            ("20", "2026-12-08", "at most 24 a day"),
            ("1", "2026-12-11", "future"),
        ] {
            let refused = co
                .submit(
                    &base,
                    &format!("{base}/entries"),
                    &[
                        ("row", "1"),
                        ("person", "鈴木 一郎"),
                        ("worked_on", day),
                        ("hours", hours),
                    ],
                )
                .await;
            assert_eq!(refused.status, 422, "{label}: {hours}");
            assert!(refused.body.contains(reason), "{label}: {}", refused.body);
        }
        let page = co.get(&base).await;
        assert!(page.body.contains("10.50"), "{label}: {}", page.body);
        // The company reports the week.
        let reported = co
            .submit(
                &base,
                &format!("{base}/weeks/2026-12-07"),
                &[("step", "submit")],
            )
            .await;
        assert_eq!(reported.status, 303, "{label}: {}", reported.body);

        // The supervisor sees it in the roll-up and acknowledges it.
        let rollup = sup.get("/labour").await;
        assert_eq!(rollup.status, 200, "{label}: {}", rollup.body);
        assert!(rollup.body.contains("出雲みなと病院"), "{label}");
        assert!(rollup.body.contains("10.50"), "{label}");
        assert!(rollup.body.contains("<svg"), "{label}: the burn-up chart");
        let acknowledged = sup
            .submit(
                &base,
                &format!("{base}/weeks/2026-12-07"),
                &[("step", "acknowledge"), ("note", "確認しました")],
            )
            .await;
        assert_eq!(acknowledged.status, 303, "{label}: {}", acknowledged.body);
        let locked = co
            .submit(
                &base,
                &format!("{base}/entries"),
                &[
                    ("row", "1"),
                    ("person", "佐藤"),
                    ("worked_on", "2026-12-09"),
                    ("hours", "1"),
                ],
            )
            .await;
        assert_eq!(locked.status, 422, "{label}");
        assert!(locked.body.contains("locked"), "{label}: {}", locked.body);

        // Alerts at 80 % and 100 % of the plan as the hours grow.
        store.clock().set_today(date!(2026 - 12 - 18));
        let book = |person: String, day: &'static str, hours: &'static str| {
            let (co, base) = (&co, &base);
            async move {
                let done = co
                    .submit(
                        base,
                        &format!("{base}/entries"),
                        &[
                            ("row", "17"),
                            ("person", person.as_str()),
                            ("worked_on", day),
                            ("hours", hours),
                        ],
                    )
                    .await;
                assert_eq!(done.status, 303, "{}", done.body);
            }
        };
        for n in 0..7 {
            book(format!("調査員{n}"), "2026-12-14", "21.5").await;
        }
        // 10.5 + 150.5 = 161 hours: 80 %.
        let page = sup.get(&base).await;
        assert!(
            page.body.contains("予定工数の80%に到達"),
            "{label}: {}",
            page.body
        );
        assert!(!page.body.contains("予定工数を超過"), "{label}");
        for n in 0..2 {
            book(format!("補助{n}"), "2026-12-15", "20").await;
        }
        let page = sup.get(&base).await;
        assert!(page.body.contains("予定工数を超過"), "{label}");
        // The week of the 14th is over and unreported on the 22nd.
        store.clock().set_today(date!(2026 - 12 - 22));
        let page = sup.get(&base).await;
        assert!(
            page.body.contains("週報告がありません: 2026-12-14"),
            "{label}"
        );

        // The sheet of 資料6 reads back: 17 rows, plan and actual, totals.
        let (status, _, xlsx) = sec.bytes(&format!("{base}.xlsx")).await;
        assert_eq!(status, 200, "{label}");
        let rows = mamori_documents::labour::labour_sheet_rows(&xlsx).unwrap();
        let numbered: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r.first().is_some_and(|c| c.parse::<u8>().is_ok()))
            .collect();
        assert_eq!(numbered.len(), 17, "{label}: {rows:?}");
        assert_eq!(numbered[0][3], "16.00");
        assert_eq!(numbered[0][4], "6.00");
        assert_eq!(numbered[16][4], "190.50");
        let total = rows
            .iter()
            .find(|r| r.iter().any(|c| c == "合計"))
            .expect("the total row");
        assert!(total.contains(&"200.00".to_string()), "{label}: {total:?}");
        assert!(total.contains(&"201.00".to_string()), "{label}: {total:?}");
        for export in ["/labour/rollup.xlsx", "/labour/rollup.csv"] {
            let (status, _, bytes) = sec.bytes(export).await;
            assert_eq!(status, 200, "{label}: {export}");
            assert!(!bytes.is_empty());
        }

        // The secretariat settles the order on the hours actually booked.
        let page = sec.get(&format!("/engagements/{eid}")).await;
        assert!(
            page.body.contains(
                "name=\"settled_hours\" inputmode=\"decimal\" required size=\"6\" value=\"201.00\""
            ),
            "{label}: {}",
            page.body
        );

        // Nobody else sees the company's hours.
        for (who, name) in [(&other, "other company"), (&staff, "hospital")] {
            let page = who.get(&base).await;
            assert_eq!(page.status, 403, "{label}: {name}");
            let (status, _, _) = who.bytes(&format!("{base}.xlsx")).await;
            assert_eq!(status, 403, "{label}: {name}");
        }
        let page = other.get("/labour").await;
        assert!(!page.body.contains("出雲みなと病院"), "{label}");
    }
}
