//! The report of an engagement through the pages and the API, on every
//! backend: the company records findings and the supervisor decides them;
//! the company's 報告書提出 is refused while deliverables are not approved
//! (each named) and otherwise releases the package; the PDF names the
//! hospital, the seven deliverables and the ledger's rows, the workbook
//! reads back with the release's rows; the secretariat's acceptance (検収)
//! is refused with the list when a deliverable was reopened; after
//! delivery the hospital downloads the report, the ministry reads it over
//! the API, and the audit log shows both.

mod common;

use common::{Browser, PASSWORD, TestApp, api};
use mamori_domain::OrgId;
use mamori_domain::audit::AuditAction;
use mamori_domain::deliverable::{DeliverableKind, ReportContent};
use mamori_domain::engagement::EngagementState;
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing;
use mamori_store::{Account, AuditFilter};
use serde_json::json;

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> (Account, Browser) {
    let account = app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    (account, b)
}

fn pdf_text(bytes: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(bytes).expect("a readable PDF")
}

#[tokio::test]
async fn a_report_is_released_accepted_delivered_downloaded_and_audited() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "監督企業").await;
        let secretariat_org = app.org(OrgKind::Secretariat, "事務局").await;
        let ministry_org = app.org(OrgKind::Ministry, "厚生労働省").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Reporting,
        )
        .await;
        let eid = e.id.0;
        let base = format!("/engagements/{eid}/report");
        let (co_account, co) = signed_in(&app, company, "co@example.jp").await;
        let (sup_account, sup) = signed_in(&app, supervisor_org, "sup@example.jp").await;
        let (_, sec) = signed_in(&app, secretariat_org, "sec@example.jp").await;
        let (_, staff) = signed_in(&app, hospital, "staff@example.jp").await;
        let ministry = app
            .account(ministry_org, "m@example.go.jp", Role::Admin)
            .await;
        let ministry_token = app.token(&ministry).await;
        let co_token = app.token(&co_account).await;

        // Nothing approved: the company's submission names all seven.
        let page = co.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(page.body.contains("全7成果物の承認が必要です"), "{label}");
        let refused = co
            .submit(
                &base,
                &format!("/engagements/{eid}/transition"),
                &[("to", "submitted")],
            )
            .await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        for kind in DeliverableKind::ALL {
            assert!(refused.body.contains(kind.ja()), "{label}: {kind}");
        }

        testing::approve_all_deliverables(store, &e, &co_account, &sup_account).await;

        // A finding through the page; bad input is refused and saves nothing.
        let bad = co
            .submit(
                &base,
                &format!("{base}/findings"),
                &[
                    ("severity", "high"),
                    ("title", "保守回線の認証"),
                    ("affected", "ふしぎ C-1"),
                    ("recommendation", "多要素認証を導入する"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{label}: {}", bad.body);
        assert!(bad.body.contains("line 1"), "{label}: {}", bad.body);
        let saved = co
            .submit(
                &base,
                &format!("{base}/findings"),
                &[
                    ("severity", "high"),
                    ("title", "保守回線の認証が共有IDのみ"),
                    ("detail", "保守用VPNに多要素認証がない"),
                    ("affected", "connection C-1\nasset: FW-01"),
                    ("recommendation", "多要素認証を導入する"),
                ],
            )
            .await;
        assert_eq!(saved.status, 303, "{label}: {}", saved.body);
        // A second finding over the API, which the supervisor rejects.
        let (status, second) = api(
            &app,
            &co_token,
            reqwest::Method::POST,
            &format!("/api/v1/engagements/{eid}/findings"),
            Some(json!({"severity": "low", "title": "掲示物", "recommendation": "撤去する"})),
        )
        .await;
        assert_eq!(status, 201, "{label}: {second}");
        assert_eq!(second["number"], 2);
        let page = sup.get(&base).await;
        assert!(
            page.body.contains(&format!("{base}/findings/1/review")),
            "{label}"
        );
        for (n, step) in [("1", "accept"), ("2", "reject")] {
            let done = sup
                .submit(
                    &base,
                    &format!("{base}/findings/{n}/review"),
                    &[("step", step), ("note", "確認")],
                )
                .await;
            assert_eq!(done.status, 303, "{label}: {}", done.body);
        }

        // The company submits the report: release 1 is made first.
        let submitted = co
            .submit(
                &base,
                &format!("/engagements/{eid}/transition"),
                &[("to", "submitted")],
            )
            .await;
        assert_eq!(submitted.status, 303, "{label}: {}", submitted.body);
        let page = co.get(&base).await;
        assert!(page.body.contains("第1版"), "{label}: {}", page.body);
        let (status, headers, pdf) = co.bytes(&format!("{base}/1/pdf?lang=ja")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(headers["content-type"], "application/pdf");
        let text = pdf_text(&pdf);
        assert!(text.contains("出雲みなと病院"), "{label}");
        assert!(text.contains("機密"), "{label}");
        for kind in DeliverableKind::ALL {
            let heading = format!("{}{}", kind.mark(), kind.ja());
            assert!(text.contains(&heading), "{label}: {heading}");
        }
        // Rows of the tables: the ledger's connection, backup and role.
        for cell in ["保守ベンダーA", "電子カルテサーバ", "情報システム室長"]
        {
            assert!(text.contains(cell), "{label}: {cell}");
        }
        assert!(text.contains("保守回線の認証が共有IDのみ"), "{label}");
        assert!(!text.contains("掲示物"), "{label}: a rejected finding");
        // The workbook reads back with the release's rows.
        let (status, content) = api(
            &app,
            &co_token,
            reqwest::Method::GET,
            &format!("/api/v1/engagements/{eid}/releases/1"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {content}");
        let content: ReportContent = serde_json::from_value(content).unwrap();
        let (status, _, xlsx) = co.bytes(&format!("{base}/1/xlsx")).await;
        assert_eq!(status, 200, "{label}");
        let sheets = mamori_documents::report::report_workbook_tables(&xlsx).unwrap();
        let backups = content
            .deliverable(DeliverableKind::Backups)
            .unwrap()
            .content
            .tables[0]
            .clone();
        let sheet = sheets
            .iter()
            .find(|(name, _)| name.starts_with('④'))
            .map(|(_, rows)| rows)
            .expect("the ④ sheet");
        for row in &backups.rows {
            let cells: Vec<String> = row.cells.iter().map(|c| c.to_string()).collect();
            let trimmed: Vec<String> = {
                let mut c = cells.clone();
                while c.last().is_some_and(String::is_empty) {
                    c.pop();
                }
                c
            };
            assert!(
                sheet.contains(&trimmed),
                "{label}: {trimmed:?} in {sheet:?}"
            );
        }
        // English, rendered with the release.
        let (status, _, english) = co.bytes(&format!("{base}/1/pdf?lang=en")).await;
        assert_eq!(status, 200, "{label}");
        assert!(pdf_text(&english).contains("CONFIDENTIAL"), "{label}");
        let (status, _, drawio) = co.bytes(&format!("{base}/1/network.drawio")).await;
        assert_eq!(status, 200, "{label}");
        assert!(
            String::from_utf8_lossy(&drawio).contains("mxfile"),
            "{label}"
        );

        // Not delivered yet: the hospital cannot download.
        let (status, _, _) = staff.bytes(&format!("{base}/1/pdf")).await;
        assert_eq!(status, 403, "{label}");

        // The supervisor reopens ⑤: the acceptance names it.
        let deliverables = format!("/engagements/{eid}/deliverables");
        let reopened = sup
            .submit(
                &deliverables,
                &format!("{deliverables}/connections/review"),
                &[
                    ("action", "reopen"),
                    ("note", "この接続先の詳細を確認してください"),
                ],
            )
            .await;
        assert_eq!(reopened.status, 303, "{label}: {}", reopened.body);
        let refused = sec
            .submit(
                &base,
                &format!("/engagements/{eid}/transition"),
                &[("to", "accepted")],
            )
            .await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(refused.body.contains("⑤外部接続先一覧"), "{label}");
        assert!(!refused.body.contains("④病院情報システム"), "{label}");

        // Sent back; the company resubmits ⑤, the supervisor approves, the
        // company submits again and release 2 is made.
        let back = sec
            .submit(
                &base,
                &format!("/engagements/{eid}/transition"),
                &[("to", "reporting"), ("note", "⑤の再確認")],
            )
            .await;
        assert_eq!(back.status, 303, "{label}: {}", back.body);
        let resubmitted = co
            .submit(
                &deliverables,
                &format!("{deliverables}/connections/submit"),
                &[],
            )
            .await;
        assert_eq!(resubmitted.status, 303, "{label}: {}", resubmitted.body);
        let approved = sup
            .submit(
                &deliverables,
                &format!("{deliverables}/connections/review"),
                &[("action", "approve")],
            )
            .await;
        assert_eq!(approved.status, 303, "{label}: {}", approved.body);
        let (status, body) = api(
            &app,
            &co_token,
            reqwest::Method::POST,
            &format!("/api/v1/engagements/{eid}/transitions"),
            Some(json!({"to": "submitted"})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        for (to, label_ja) in [("accepted", "検収"), ("reported", "報告")] {
            let done = sec
                .submit(
                    &base,
                    &format!("/engagements/{eid}/transition"),
                    &[("to", to)],
                )
                .await;
            assert_eq!(done.status, 303, "{label} {label_ja}: {}", done.body);
        }

        // The hospital downloads release 2; the ministry reads it by API.
        let page = staff.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(
            page.body.contains("第2版") && !page.body.contains("第1版"),
            "{label}"
        );
        assert!(
            !page.body.contains("掲示物"),
            "{label}: only accepted findings"
        );
        let (status, _, pdf) = staff.bytes(&format!("{base}/2/pdf")).await;
        assert_eq!(status, 200, "{label}");
        assert!(pdf_text(&pdf).contains("出雲みなと病院"), "{label}");
        let (status, _, _) = staff.bytes(&format!("{base}/1/pdf")).await;
        assert_eq!(status, 404, "{label}: release 1 was never delivered");
        let (status, releases) = api(
            &app,
            &ministry_token,
            reqwest::Method::GET,
            &format!("/api/v1/engagements/{eid}/releases"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {releases}");
        assert_eq!(releases["releases"].as_array().unwrap().len(), 1);
        assert!(releases["releases"][0]["delivered_at_ms"].is_i64());
        let response = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/engagements/{eid}/releases/2/files/pdf")))
            .bearer_auth(&ministry_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{label}");
        assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));

        let downloads = store
            .audit_page(
                None,
                &AuditFilter {
                    action: Some(AuditAction::ReportDownloaded.slug().to_string()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .records;
        let by: Vec<&str> = downloads
            .iter()
            .map(|r| r.content.actor_label.as_str())
            .collect();
        assert!(by.contains(&"staff@example.jp"), "{label}: {by:?}");
        assert!(
            by.iter().any(|b| b.starts_with("m@example.go.jp")),
            "{label}: {by:?}"
        );
        assert!(by.contains(&"co@example.jp"), "{label}: {by:?}");
    }
}
