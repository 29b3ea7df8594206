//! The deliverables of an engagement through the pages and the API, on
//! every backend: the contracted company submits ④ built from the ledger,
//! the supervisor asks for changes with a note, the company changes the
//! ledger and submits version 2 whose page shows what changed, the
//! supervisor approves; the company cannot review, ⑦ without roles is
//! refused naming what is missing, and another hospital reads nothing.

mod common;

use common::{Browser, PASSWORD, TestApp, api};
use mamori_domain::OrgId;
use mamori_domain::engagement::EngagementState;
use mamori_domain::ledger::{Asset, Backup, Cells, Ledger, RowRecord, Segment, StructureRole};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::testing;
use mamori_store::{Account, AuditContext, ChangeSource, Store};
use serde_json::json;
use std::collections::BTreeMap;

const NOTE: &str = "この接続先の詳細を確認してください";

async fn signed_in(app: &TestApp, org: OrgId, email: &str) -> (Account, Browser) {
    let account = app.account(org, email, Role::Admin).await;
    let b = app.browser();
    let page = b.login(email, PASSWORD).await;
    assert_eq!(page.status, 303, "login {email}: {}", page.body);
    (account, b)
}

fn record<R: RowRecord>(pairs: &[(&str, &str)]) -> R {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    R::from_cells(&Cells::from_map::<R>(&map)).expect("valid test record")
}

fn ledger(generations: &str) -> Ledger {
    Ledger {
        assets: vec![record::<Asset>(&[
            ("key", "SYS-EHR"),
            ("kind", "システム"),
            ("name", "電子カルテ"),
        ])],
        backups: vec![record::<Backup>(&[
            ("key", "B-1"),
            ("system", "SYS-EHR"),
            ("generations", generations),
            ("offline_copy", "はい"),
        ])],
        ..Ledger::default()
    }
}

async fn import(store: &Store, company: &Account, hospital: OrgId, l: &Ledger) {
    let ctx = AuditContext::for_actor(company.actor(), company.email.clone(), None);
    let g = store
        .authorize(&ctx, hospital, HospitalData::Ledger, Access::Write)
        .await
        .expect("ledger grant");
    store
        .import_ledger(&ctx, &g, l, ChangeSource::Import)
        .await
        .expect("imported");
}

#[tokio::test]
async fn a_deliverable_is_submitted_reviewed_and_approved_through_the_pages_and_the_api() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let other_hospital = app.org(OrgKind::Hospital, "石見やまびこ病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let supervisor_org = app.org(OrgKind::Supervisor, "監督企業").await;
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
        let base = format!("/engagements/{eid}/deliverables");

        let (surveyor_account, surveyor) = signed_in(&app, company, "surveyor@example.jp").await;
        let (supervisor_account, supervisor) =
            signed_in(&app, supervisor_org, "sup@example.jp").await;
        let (_, stranger) = signed_in(&app, other_hospital, "other@example.jp").await;
        import(store, &surveyor_account, hospital, &ledger("7")).await;

        // All seven, in order, none submitted; the company may submit.
        let page = surveyor.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let marks: Vec<usize> = ['①', '②', '③', '④', '⑤', '⑥', '⑦']
            .iter()
            .map(|m| page.body.find(*m).unwrap_or_else(|| panic!("{label}: {m}")))
            .collect();
        assert!(marks.windows(2).all(|w| w[0] < w[1]), "{label}: {marks:?}");
        assert!(
            page.body
                .contains("病院情報システムのバックアップ状況（表）")
        );
        assert!(page.body.contains(&format!("{base}/backups/submit")));
        assert!(
            !page.body.contains("/review\""),
            "{label}: no review for the company"
        );

        // ④ submitted through the page: version 1.
        let done = surveyor
            .submit(&base, &format!("{base}/backups/submit"), &[])
            .await;
        assert_eq!(done.status, 303, "{label}: {}", done.body);
        assert_eq!(
            done.location.as_deref(),
            Some(format!("{base}?done=deliverable_submitted#backups").as_str())
        );
        let page = surveyor
            .get(&format!("{base}?done=deliverable_submitted"))
            .await;
        assert!(page.body.contains("成果物を提出しました。"), "{label}");
        assert!(page.body.contains(&format!("{base}/backups/versions/1")));
        assert!(page.body.contains("提出済"));

        // ⑦ with no roles: refused naming what is missing.
        let refused = surveyor
            .submit(&base, &format!("{base}/structure/submit"), &[])
            .await;
        assert_eq!(refused.status, 422, "{label}: {}", refused.body);
        assert!(
            refused.body.contains("管理体制の役割がありません"),
            "{label}: {}",
            refused.body
        );

        // The supervisor asks for changes with a note.
        let page = supervisor.get(&base).await;
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(page.body.contains(&format!("{base}/backups/review")));
        assert!(!page.body.contains(&format!("{base}/backups/submit")));
        let reviewed = supervisor
            .submit(
                &base,
                &format!("{base}/backups/review"),
                &[("action", "request-changes"), ("note", NOTE)],
            )
            .await;
        assert_eq!(reviewed.status, 303, "{label}: {}", reviewed.body);
        assert!(
            reviewed
                .location
                .as_deref()
                .is_some_and(|l| l.contains("done=deliverable_reviewed"))
        );
        // Approving now is not a step: 409 with the message on the page.
        let conflict = supervisor
            .submit(
                &base,
                &format!("{base}/backups/review"),
                &[("action", "approve")],
            )
            .await;
        assert_eq!(conflict.status, 409, "{label}: {}", conflict.body);
        assert!(conflict.body.contains("allowed next"), "{label}");

        // The company sees the note, cannot review, changes the ledger and resubmits.
        let page = surveyor.get(&base).await;
        assert!(page.body.contains(NOTE), "{label}: {}", page.body);
        assert!(page.body.contains("修正依頼"));
        let forbidden = surveyor
            .submit(
                &base,
                &format!("{base}/backups/review"),
                &[("action", "approve")],
            )
            .await;
        assert_eq!(forbidden.status, 403, "{label}");
        import(store, &surveyor_account, hospital, &ledger("14")).await;
        let done = surveyor
            .submit(&base, &format!("{base}/backups/submit"), &[])
            .await;
        assert_eq!(done.status, 303, "{label}: {}", done.body);

        // Version 2 shows its table and what changed from version 1.
        let v2 = surveyor.get(&format!("{base}/backups/versions/2")).await;
        assert_eq!(v2.status, 200, "{label}: {}", v2.body);
        assert!(v2.body.contains("<caption>"), "{label}");
        assert!(v2.body.contains("B-1"), "{label}");
        assert!(v2.body.contains("「7」→「14」"), "{label}: {}", v2.body);
        let v1 = supervisor.get(&format!("{base}/backups/versions/1")).await;
        assert_eq!(v1.status, 200, "{label}");
        assert!(!v1.body.contains("id=\"changes\""), "{label}");

        // The supervisor approves.
        let approved = supervisor
            .submit(
                &base,
                &format!("{base}/backups/review"),
                &[("action", "approve"), ("note", "")],
            )
            .await;
        assert_eq!(approved.status, 303, "{label}: {}", approved.body);
        let page = supervisor.get(&base).await;
        assert!(page.body.contains("承認済"), "{label}");

        // Another hospital's staff reads nothing.
        for path in [base.clone(), format!("{base}/backups/versions/1")] {
            let page = stranger.get(&path).await;
            assert!(
                page.status == 403 || page.status == 404,
                "{label} {path}: {}",
                page.status
            );
            assert!(!page.body.contains("B-1") && !page.body.contains(NOTE));
        }

        // The same round trip through the API: reopened, resubmitted, compared, approved.
        let company_token = app.token(&surveyor_account).await;
        let supervisor_token = app.token(&supervisor_account).await;
        let stranger_account = app
            .account(other_hospital, "other-api@example.jp", Role::Admin)
            .await;
        let stranger_token = app.token(&stranger_account).await;
        let api_base = format!("/api/v1/engagements/{eid}/deliverables");
        let get = reqwest::Method::GET;
        let post = reqwest::Method::POST;

        let (status, body) = api(&app, &company_token, get.clone(), &api_base, None).await;
        assert_eq!(status, 200, "{label}: {body}");
        let all = body["deliverables"].as_array().unwrap();
        assert_eq!(all.len(), 7);
        assert_eq!(all[3]["state"], "approved", "{label}: {body}");
        let (status, _) = api(&app, &stranger_token, get.clone(), &api_base, None).await;
        assert!(status == 403 || status == 404, "{label}: {status}");

        // Reopened by the supervisor, resubmitted by the company after a change.
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/backups/review"),
            Some(json!({"action": "reopen", "note": NOTE})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["state"], "changes-requested", "{label}: {body}");
        let (status, body) = api(
            &app,
            &company_token,
            post.clone(),
            &format!("{api_base}/backups/review"),
            Some(json!({"action": "approve"})),
        )
        .await;
        assert_eq!(status, 403, "{label}: {body}");
        import(store, &surveyor_account, hospital, &ledger("21")).await;
        let (status, body) = api(
            &app,
            &company_token,
            post.clone(),
            &format!("{api_base}/backups/submit"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["version"], 3, "{label}: {body}");
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/backups/review"),
            Some(json!({"action": "reopen"})),
        )
        .await;
        assert_eq!(status, 409, "{label}: {body}");
        let (status, body) = api(
            &app,
            &company_token,
            post.clone(),
            &format!("{api_base}/structure/submit"),
            None,
        )
        .await;
        assert_eq!(status, 422, "{label}: {body}");
        assert!(
            body["missing"]
                .as_array()
                .is_some_and(|m| m.iter().any(|p| p.as_str().unwrap().contains("no roles"))),
            "{label}: {body}"
        );

        let (status, body) = api(
            &app,
            &supervisor_token,
            get.clone(),
            &format!("{api_base}/backups/versions/3"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["kind"], "backups", "{label}: {body}");
        assert!(body["tables"].as_array().is_some_and(|t| !t.is_empty()));
        let (status, body) = api(
            &app,
            &supervisor_token,
            get.clone(),
            &format!("{api_base}/backups/diff?from=2&to=3"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        let changes = body["changes"].as_array().unwrap();
        assert!(
            changes
                .iter()
                .any(|c| c["text"].as_str().unwrap().contains("「14」→「21」")),
            "{label}: {body}"
        );
        let (status, body) = api(
            &app,
            &supervisor_token,
            post.clone(),
            &format!("{api_base}/backups/review"),
            Some(json!({"action": "approve", "note": "確認しました"})),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["state"], "approved", "{label}: {body}");
        let (status, _) = api(
            &app,
            &stranger_token,
            get.clone(),
            &format!("{api_base}/backups/versions/3"),
            None,
        )
        .await;
        assert!(status == 403 || status == 404, "{label}: {status}");

        // The OpenAPI document lists the deliverable routes.
        let (status, doc) = api(&app, &company_token, get, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200, "{label}");
        for path in [
            "/api/v1/engagements/{id}/deliverables",
            "/api/v1/engagements/{id}/deliverables/{kind}/submit",
            "/api/v1/engagements/{id}/deliverables/{kind}/review",
            "/api/v1/engagements/{id}/deliverables/{kind}/versions/{n}",
            "/api/v1/engagements/{id}/deliverables/{kind}/diff",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} not in OpenAPI");
        }

        app.db.finish().await;
    }
}

#[tokio::test]
async fn the_network_and_structure_versions_draw_their_frozen_diagrams() {
    for db in testing::all().await {
        let label = db.label;
        let app = TestApp::start(db).await;
        let store = app.store();
        let hospital = app.org(OrgKind::Hospital, "出雲みなと病院").await;
        let company = app.org(OrgKind::SurveyCompany, "しまね情報調査").await;
        let programme = testing::add_programme(store, "令和8年度 病院調査").await;
        let e = testing::add_engagement(
            store,
            programme,
            hospital,
            company,
            EngagementState::Surveying,
        )
        .await;
        let base = format!("/engagements/{}/deliverables", e.id.0);
        let (account, surveyor) = signed_in(&app, company, "surveyor@example.jp").await;
        let mut l = Ledger::default();
        l.segments.push(record::<Segment>(&[
            ("key", "MED"),
            ("name", "医療系LAN"),
            ("kind", "医療系"),
        ]));
        l.assets.push(record::<Asset>(&[
            ("key", "SW-1"),
            ("kind", "スイッチ"),
            ("name", "コアスイッチ"),
            ("segment", "MED"),
        ]));
        l.roles.push(record::<StructureRole>(&[
            ("key", "R-1"),
            ("kind", "システム管理者"),
            ("title", "情報システム室長"),
            ("incident_order", "1"),
        ]));
        import(store, &account, hospital, &l).await;
        for (kind, needles) in [
            ("network", ["医療系LAN", "コアスイッチ"]),
            ("structure", ["情報システム室長", "緊急連絡"]),
        ] {
            let done = surveyor
                .submit(&base, &format!("{base}/{kind}/submit"), &[])
                .await;
            assert_eq!(done.status, 303, "{label} {kind}: {}", done.body);
            let version = surveyor.get(&format!("{base}/{kind}/versions/1")).await;
            assert_eq!(version.status, 200, "{label} {kind}");
            let svg_at = version
                .body
                .find("<svg")
                .unwrap_or_else(|| panic!("{label} {kind}: no drawing"));
            for needle in needles {
                assert!(
                    version.body[svg_at..].contains(needle),
                    "{label} {kind}: {needle} not drawn"
                );
            }
        }
        // The drawing is the frozen one: a later change does not reach it.
        let mut changed = l.clone();
        changed.assets[0].name = "新しいスイッチ".into();
        import(store, &account, hospital, &changed).await;
        let version = surveyor.get(&format!("{base}/network/versions/1")).await;
        assert!(version.body.contains("コアスイッチ") && !version.body.contains("新しいスイッチ"));
    }
}
