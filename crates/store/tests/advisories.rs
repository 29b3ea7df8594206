//! Advisories as stored, on SQLite and (when configured) PostgreSQL: a
//! record imported twice changes nothing, a changed one replaces it, every
//! alias finds it, and only the operator or the secretariat imports.

use mamori_advisories::{Advisory, Source};
use mamori_domain::organisation::{OrgKind, Role};
use mamori_store::testing::{self, TestDb};
use mamori_store::{AdvisoryImportSummary, AuditContext, StoreError};

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = TestDb>,
{
    for db in testing::all().await {
        eprintln!("-- on {}", db.label);
        test(db).await.finish().await;
    }
}

fn jvn() -> Advisory {
    let mut a = Advisory::new("JVNDB-2024-001234", Source::Jvn);
    a.title = "FortiOS における境界外書き込みの脆弱性".into();
    a.aliases.insert("CVE-2024-21762".into());
    a
}

#[tokio::test]
async fn advisories_import_once_update_when_changed_and_are_found_by_alias() {
    each_backend(|db| async move {
        let s = &db.store;
        let op = AuditContext::operator("test");
        let nvd = Advisory::new("CVE-2024-21762", Source::Nvd);
        let first = s
            .import_advisories(&op, &[nvd.clone(), jvn()], "batch-1")
            .await
            .unwrap();
        assert_eq!(
            first,
            AdvisoryImportSummary {
                new: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let again = s
            .import_advisories(&op, &[nvd.clone(), jvn()], "batch-1")
            .await
            .unwrap();
        assert_eq!(
            again,
            AdvisoryImportSummary {
                new: 0,
                updated: 0,
                unchanged: 2
            }
        );
        let mut changed = jvn();
        changed.description = "更新".into();
        let third = s
            .import_advisories(&op, &[changed], "batch-2")
            .await
            .unwrap();
        assert_eq!(third.updated, 1);
        let found = s.advisories_by_alias("CVE-2024-21762").await.unwrap();
        let ids: Vec<&str> = found.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["JVNDB-2024-001234", "CVE-2024-21762"]);
        assert_eq!(found[0].description, "更新");
        assert_eq!(s.advisories().await.unwrap().len(), 2);

        let company = testing::add_org(s, OrgKind::SurveyCompany, "調査A社").await;
        let account = testing::add_account(s, company, "a@example.jp", Role::Admin).await;
        let ctx = AuditContext::for_actor(account.actor(), account.email.clone(), None);
        assert!(matches!(
            s.import_advisories(&ctx, &[jvn()], "x").await,
            Err(StoreError::Forbidden(_))
        ));
        db
    })
    .await;
}
