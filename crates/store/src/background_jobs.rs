//! Background jobs shared by several instances of `mamori serve` on one
//! database: each period's run of a job is claimed by one conditional
//! update, which only one instance can win (PostgreSQL re-checks the
//! condition after a concurrent update commits; SQLite has one writer).

use crate::{Result, Store, now_ms};
use serde::Serialize;

/// A job's record: when it runs next and who ran it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackgroundJob {
    pub name: String,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    pub last_instance: Option<String>,
    pub runs: i64,
}

impl Store {
    /// Claims this period's run of `job` for `instance`. True for exactly
    /// one caller per period of `every_ms`, whichever instance asks first
    /// once it is due.
    pub async fn claim_job(&self, job: &str, every_ms: i64, instance: &str) -> Result<bool> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO background_jobs (name, next_run_at, runs) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(job)
        .bind(now)
        .execute(&self.pool)
        .await?;
        // A tenth of a period (at most a second) of slack, so that a timer
        // firing a moment early still finds its run due.
        let slack = (every_ms / 10).min(1000);
        let claimed = sqlx::query(
            "UPDATE background_jobs SET next_run_at = $1, last_run_at = $2, last_instance = $3, runs = runs + 1 WHERE name = $4 AND next_run_at <= $2",
        )
        .bind(now + every_ms - slack)
        .bind(now)
        .bind(instance)
        .bind(job)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Every job's record, by name.
    pub async fn background_jobs(&self) -> Result<Vec<BackgroundJob>> {
        type Row = (String, i64, Option<i64>, Option<String>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT name, next_run_at, last_run_at, last_instance, runs FROM background_jobs ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(name, next_run_at, last_run_at, last_instance, runs)| BackgroundJob {
                    name,
                    next_run_at,
                    last_run_at,
                    last_instance,
                    runs,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing;

    #[tokio::test]
    async fn one_claim_per_period_among_many_instances() {
        for db in testing::all().await {
            let store = &db.store;
            // Twenty instances asking at once: one wins.
            let mut asks = Vec::new();
            for i in 0..20 {
                let store = store.clone();
                asks.push(tokio::spawn(async move {
                    store
                        .claim_job("deadlines", 60_000, &format!("instance-{i}"))
                        .await
                        .expect("claim")
                }));
            }
            let mut won = 0;
            for ask in asks {
                won += usize::from(ask.await.expect("join"));
            }
            assert_eq!(won, 1, "{}", db.label);
            // Not due again within the period; another job is separate.
            assert!(!store.claim_job("deadlines", 60_000, "late").await.unwrap());
            assert!(store.claim_job("escalations", 60_000, "a").await.unwrap());
            // A short period comes round again.
            assert!(store.claim_job("tick", 50, "a").await.unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            assert!(store.claim_job("tick", 50, "b").await.unwrap());
            let jobs = store.background_jobs().await.unwrap();
            let tick = jobs.iter().find(|j| j.name == "tick").expect("tick");
            assert_eq!((tick.runs, tick.last_instance.as_deref()), (2, Some("b")));
            let deadlines = jobs
                .iter()
                .find(|j| j.name == "deadlines")
                .expect("deadlines");
            assert_eq!(deadlines.runs, 1, "{}", db.label);
            db.finish().await;
        }
    }
}
