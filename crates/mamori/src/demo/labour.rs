//! The demo's labour hours, booked by the companies' surveyors day by day
//! from each contract on and reported weekly, the supervisor acknowledging
//! each report: 湖畔 under its plan with one week never reported, 白浜
//! over its plan (like the seed's first hospital, about 300 hours against
//! 200), みどり past 80 % of it at company B's own rate.

use super::{emails, names};
use mamori_domain::engagement::EngagementState;
use mamori_domain::labour::{Hours, LabourEntry, WeekStep, week_of};
use mamori_domain::policy::{Access, HospitalData};
use mamori_store::{AuditContext, Engagement, Store, StoreError};
use time::{Date, Duration};

/// How one engagement's hours go: the total to book, the surveyors who
/// book them, and the weeks (by Monday) left unreported.
struct Booking {
    hospital: &'static str,
    surveyor: &'static str,
    people: [&'static str; 2],
    total_hours: i64,
    unreported: usize,
}

const BOOKINGS: &[Booking] = &[
    Booking {
        hospital: names::HOSPITAL_A_SURVEYING,
        surveyor: emails::SURVEYOR_A,
        people: ["鈴木 一郎", "高橋 美咲"],
        total_hours: 64,
        unreported: 1,
    },
    Booking {
        hospital: names::HOSPITAL_A_INTERIM,
        surveyor: emails::SURVEYOR_A,
        people: ["鈴木 一郎", "伊藤 健"],
        total_hours: 236,
        unreported: 0,
    },
    Booking {
        hospital: names::HOSPITAL_B_REPORTED,
        surveyor: emails::SURVEYOR_B,
        people: ["中村 彩", "山本 大輔"],
        total_hours: 172,
        unreported: 0,
    },
];

/// Rows the hours go to, in turn: hearings, writing, the other work.
const ROWS: [u8; 10] = [1, 3, 5, 2, 4, 7, 9, 11, 12, 17];

async fn person(store: &Store, email: &str) -> Result<AuditContext, StoreError> {
    let account = store.account_by_email(email).await?;
    Ok(AuditContext::for_actor(
        account.actor(),
        account.email.clone(),
        None,
    ))
}

/// Books and reports the hours of the demo's engagements up to `today`.
pub async fn seed_labour(
    store: &Store,
    engagements: &[Engagement],
    today: Date,
) -> Result<(), StoreError> {
    let supervisor = person(store, emails::SUPERVISOR).await?;
    let secretariat = person(store, emails::SECRETARIAT_ADMIN).await?;
    for b in BOOKINGS {
        let Some(e) = engagements.iter().find(|e| e.hospital_name == b.hospital) else {
            continue;
        };
        let company = person(store, b.surveyor).await?;
        let detail = store.engagement_detail(&secretariat, e.id).await?;
        let Some(contracted) = detail
            .transitions
            .iter()
            .rev()
            .find(|t| t.to == EngagementState::Contracted)
            .map(|t| t.effective_on)
        else {
            continue;
        };
        let until = detail
            .transitions
            .iter()
            .rev()
            .find(|t| t.to == EngagementState::Submitted)
            .map_or(today, |t| t.effective_on);
        // Working days from the contract to the last one before `until`.
        let days: Vec<Date> = (0..)
            .map(|n| contracted + Duration::days(n))
            .take_while(|d| *d < until)
            .filter(|d| d.weekday().number_days_from_monday() < 5)
            .collect();
        if days.is_empty() {
            continue;
        }
        let slots = (days.len() * b.people.len()) as i64;
        let per_slot = b.total_hours * 100 / slots;
        let mut booked = 0;
        for (n, day) in days.iter().enumerate() {
            for (k, who) in b.people.iter().enumerate() {
                let slot = (n * b.people.len() + k) as i64;
                // The last slot takes the rounding, so the total is exact.
                let hundredths = if slot == slots - 1 {
                    b.total_hours * 100 - booked
                } else {
                    per_slot
                };
                booked += hundredths;
                let grant = store
                    .authorize(
                        &company,
                        e.hospital_id,
                        HospitalData::LabourHours,
                        Access::Write,
                    )
                    .await?;
                store
                    .add_labour_entry(
                        &company,
                        &grant,
                        e.id,
                        &LabourEntry {
                            row: ROWS[(n + k) % ROWS.len()],
                            person: (*who).to_string(),
                            worked_on: *day,
                            hours: Hours::from_hundredths(hundredths),
                            note: String::new(),
                        },
                    )
                    .await?;
            }
        }
        // Every finished week reported and acknowledged, but the last
        // `unreported` ones.
        let mut weeks: Vec<Date> = days.iter().map(|d| week_of(*d)).collect();
        weeks.dedup();
        weeks.retain(|w| *w < week_of(until));
        let reported = weeks.len().saturating_sub(b.unreported);
        for week in weeks.iter().take(reported) {
            let grant = store
                .authorize(
                    &company,
                    e.hospital_id,
                    HospitalData::LabourHours,
                    Access::Write,
                )
                .await?;
            store
                .labour_week_step(&company, &grant, e.id, *week, WeekStep::Submit, "")
                .await?;
            let grant = store
                .authorize(
                    &supervisor,
                    e.hospital_id,
                    HospitalData::LabourHours,
                    Access::Review,
                )
                .await?;
            store
                .labour_week_step(&supervisor, &grant, e.id, *week, WeekStep::Acknowledge, "")
                .await?;
        }
    }
    // Company B agreed a higher rate with the secretariat.
    if let Some(e) = engagements
        .iter()
        .find(|e| e.hospital_name == names::HOSPITAL_B_REPORTED)
    {
        store
            .set_labour_rate(&secretariat, e.programme_id, e.company_id, 12_000)
            .await?;
    }
    Ok(())
}
