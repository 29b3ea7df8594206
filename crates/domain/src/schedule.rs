//! Milestones and deadlines: the seed's schedule (資料4 §6) as a template
//! for a programme, the one-month contact rule (資料1 §4②), and what is
//! overdue on a given day. The day is always passed in: the domain has no clock.

use crate::engagement::EngagementState;
use crate::organisation::slug_enum;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

slug_enum!(
    /// The programme's milestones, in the order of the seed's schedule.
    MilestoneKind, "milestone" {
        TargetsDecided => "targets-decided",
        ContractsOrdered => "contracts-ordered",
        SurveysStart => "surveys-start",
        InterimReview => "interim-review",
        ReportCoordination => "report-coordination",
        SubmissionAcceptance => "submission-acceptance",
        ReportToHospitals => "report-to-hospitals",
    }
);

impl MilestoneKind {
    /// The state an engagement must have reached by the milestone.
    pub fn reached_state(self) -> EngagementState {
        use EngagementState as S;
        match self {
            MilestoneKind::TargetsDecided => S::IntentConfirmed,
            MilestoneKind::ContractsOrdered => S::Contracted,
            MilestoneKind::SurveysStart => S::Surveying,
            MilestoneKind::InterimReview => S::InterimReview,
            MilestoneKind::ReportCoordination => S::Submitted,
            MilestoneKind::SubmissionAcceptance => S::Accepted,
            MilestoneKind::ReportToHospitals => S::Reported,
        }
    }

    /// The seed's schedule for a programme of fiscal year `fy` (April `fy`
    /// to March `fy + 1`): mid-November, late November, early December,
    /// mid-January, early February, late February, end of May.
    pub fn default_due(self, fiscal_year: i32) -> Date {
        let (year, month, day) = match self {
            MilestoneKind::TargetsDecided => (fiscal_year, Month::November, 15),
            MilestoneKind::ContractsOrdered => (fiscal_year, Month::November, 30),
            MilestoneKind::SurveysStart => (fiscal_year, Month::December, 5),
            MilestoneKind::InterimReview => (fiscal_year + 1, Month::January, 15),
            MilestoneKind::ReportCoordination => (fiscal_year + 1, Month::February, 10),
            MilestoneKind::SubmissionAcceptance => (fiscal_year + 1, Month::February, 28),
            MilestoneKind::ReportToHospitals => (fiscal_year + 1, Month::May, 31),
        };
        // Every (month, day) above exists in every year.
        Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
    }
}

/// One milestone of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub kind: MilestoneKind,
    pub due: Date,
}

/// The default milestones for a new programme.
pub fn default_milestones(fiscal_year: i32) -> Vec<Milestone> {
    MilestoneKind::ALL
        .iter()
        .map(|kind| Milestone {
            kind: *kind,
            due: kind.default_due(fiscal_year),
        })
        .collect()
}

/// The same day `months` later, or the month's last day when it has no such
/// day (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: u32) -> Date {
    let index = date.year() * 12 + (date.month() as i32 - 1) + months as i32;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

slug_enum!(
    /// What a deadline is about.
    DeadlineKind, "deadline" {
        /// The company contacts the hospital within a month of intent confirmation.
        ContactHospital => "contact-hospital",
        Milestone => "milestone",
        /// A material request (宿題) or vendor inquiry: one week.
        MaterialRequest => "material-request",
        /// The NDA runs out: the survey-data gate closes with it.
        NdaExpires => "nda-expires",
    }
);

/// A dated obligation of one engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub milestone: Option<MilestoneKind>,
    pub due: Date,
    pub met: bool,
}

/// How a deadline stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "days", rename_all = "kebab-case")]
pub enum DeadlineStatus {
    Met,
    /// Due in more than a week.
    Upcoming(i64),
    /// Due within seven days (0 = today).
    DueSoon(i64),
    /// Past due by this many days.
    Overdue(i64),
}

/// Days before a deadline when it counts as approaching.
pub const DUE_SOON_DAYS: i64 = 7;

impl Deadline {
    pub fn status(&self, today: Date) -> DeadlineStatus {
        if self.met {
            return DeadlineStatus::Met;
        }
        let days = (self.due - today).whole_days();
        if days < 0 {
            DeadlineStatus::Overdue(-days)
        } else if days <= DUE_SOON_DAYS {
            DeadlineStatus::DueSoon(days)
        } else {
            DeadlineStatus::Upcoming(days)
        }
    }

    pub fn is_overdue(&self, today: Date) -> bool {
        matches!(self.status(today), DeadlineStatus::Overdue(_))
    }
}

/// What the deadlines of one engagement are computed from.
#[derive(Debug, Clone, Default)]
pub struct EngagementDates {
    pub state: Option<EngagementState>,
    /// The day the secretariat confirmed the hospital's intent.
    pub intent_confirmed_on: Option<Date>,
    /// The day the company first contacted the hospital (entered scheduling).
    pub contacted_on: Option<Date>,
    /// The last day of the NDA in force, if any.
    pub nda_valid_until: Option<Date>,
}

/// Every deadline of an engagement: the contact rule, each milestone of its
/// programme, and the NDA's end while the survey still needs it.
pub fn engagement_deadlines(dates: &EngagementDates, milestones: &[Milestone]) -> Vec<Deadline> {
    let Some(state) = dates.state else {
        return Vec::new();
    };
    if state.is_closed_early() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(intent) = dates.intent_confirmed_on {
        out.push(Deadline {
            kind: DeadlineKind::ContactHospital,
            milestone: None,
            due: add_months(intent, 1),
            met: dates.contacted_on.is_some() || state.has_reached(EngagementState::Scheduling),
        });
    }
    for m in milestones {
        out.push(Deadline {
            kind: DeadlineKind::Milestone,
            milestone: Some(m.kind),
            due: m.due,
            met: state.has_reached(m.kind.reached_state()),
        });
    }
    if let Some(until) = dates.nda_valid_until {
        // The NDA matters until the report is accepted.
        out.push(Deadline {
            kind: DeadlineKind::NdaExpires,
            milestone: None,
            due: until,
            met: state.is_accepted(),
        });
    }
    out.sort_by_key(|d| d.due);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_seed_schedule_for_fiscal_2022() {
        let m = default_milestones(2022);
        let dues: Vec<Date> = m.iter().map(|m| m.due).collect();
        assert_eq!(
            dues,
            vec![
                date!(2022 - 11 - 15),
                date!(2022 - 11 - 30),
                date!(2022 - 12 - 05),
                date!(2023 - 01 - 15),
                date!(2023 - 02 - 10),
                date!(2023 - 02 - 28),
                date!(2023 - 05 - 31),
            ]
        );
        assert!(dues.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_month_later_clamps_to_the_month_end() {
        assert_eq!(add_months(date!(2023 - 01 - 31), 1), date!(2023 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2022 - 12 - 10), 1), date!(2023 - 01 - 10));
        assert_eq!(add_months(date!(2022 - 11 - 21), 14), date!(2024 - 01 - 21));
    }

    #[test]
    fn contact_deadline_is_one_month_after_intent() {
        let dates = EngagementDates {
            state: Some(EngagementState::Contracted),
            intent_confirmed_on: Some(date!(2022 - 11 - 21)),
            ..Default::default()
        };
        let d = engagement_deadlines(&dates, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].due, date!(2022 - 12 - 21));
        assert_eq!(
            d[0].status(date!(2022 - 12 - 14)),
            DeadlineStatus::DueSoon(7)
        );
        assert_eq!(
            d[0].status(date!(2022 - 12 - 13)),
            DeadlineStatus::Upcoming(8)
        );
        assert_eq!(
            d[0].status(date!(2022 - 12 - 21)),
            DeadlineStatus::DueSoon(0)
        );
        assert_eq!(
            d[0].status(date!(2022 - 12 - 23)),
            DeadlineStatus::Overdue(2)
        );
        let contacted = EngagementDates {
            state: Some(EngagementState::Scheduling),
            ..dates
        };
        assert!(engagement_deadlines(&contacted, &[])[0].met);
    }

    #[test]
    fn milestones_are_met_by_reaching_their_state() {
        let milestones = default_milestones(2022);
        let dates = EngagementDates {
            state: Some(EngagementState::Surveying),
            ..Default::default()
        };
        let d = engagement_deadlines(&dates, &milestones);
        let overdue: Vec<_> = d
            .iter()
            .filter(|d| d.is_overdue(date!(2023 - 01 - 20)))
            .filter_map(|d| d.milestone)
            .collect();
        assert_eq!(overdue, vec![MilestoneKind::InterimReview]);
        let closed = EngagementDates {
            state: Some(EngagementState::Withdrawn),
            ..Default::default()
        };
        assert!(engagement_deadlines(&closed, &milestones).is_empty());
    }
}
