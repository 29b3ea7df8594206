use super::*;
use time::macros::date;

fn h(text: &str) -> Hours {
    Hours::parse(text).unwrap()
}

fn entry(row: u8, person: &str, day: Date, hours: &str) -> LabourEntry {
    LabourEntry {
        row,
        person: person.into(),
        worked_on: day,
        hours: h(hours),
        note: String::new(),
    }
}

#[test]
fn the_sheet_has_seventeen_rows_and_plans_200_hours() {
    assert_eq!(PLAN_ROWS.len(), 17);
    let numbers: Vec<u8> = PLAN_ROWS.iter().map(|r| r.number).collect();
    assert_eq!(numbers, (1..=17).collect::<Vec<u8>>());
    let defaults: Vec<i64> = PLAN_ROWS
        .iter()
        .map(|r| r.default_hours.hundredths() / 100)
        .collect();
    assert_eq!(
        defaults,
        [16, 16, 16, 16, 16, 16, 4, 16, 4, 16, 4, 16, 4, 16, 0, 0, 24]
    );
    assert_eq!(LabourPlan::default().total(), Hours::from_whole(200));
    assert_eq!(LabourPlan::default().total().to_string(), "200.00");
    // Each deliverable has a survey row then a writing row.
    for kind in DeliverableKind::ALL {
        let rows: Vec<Activity> = PLAN_ROWS
            .iter()
            .filter(|r| r.deliverable == Some(*kind))
            .map(|r| r.activity)
            .collect();
        assert_eq!(rows, [Activity::Survey, Activity::Writing], "{kind}");
    }
    assert_eq!(PLAN_ROWS[16].item_ja, "その他(事前調査、進捗報告など)");
}

#[test]
fn hours_read_the_sheets_numbers_and_refuse_the_rest() {
    assert_eq!(h("16"), Hours::from_whole(16));
    assert_eq!(h("7.5").hundredths(), 750);
    assert_eq!(h("１．２５").hundredths(), 125);
    assert_eq!(h(".5").hundredths(), 50);
    assert!(h("-2").is_negative());
    assert_eq!(h("-2.5").to_string(), "-2.50");
    for bad in ["", "abc", "1.234", "1,5", "1.2.3", "."] {
        assert!(Hours::parse(bad).is_err(), "{bad}");
    }
    let json: Hours = serde_json::from_str("7.25").unwrap();
    assert_eq!(json.hundredths(), 725);
    assert_eq!(serde_json::to_string(&h("7.25")).unwrap(), "7.25");
    assert!(serde_json::from_str::<Hours>("7.255").is_err());
}

#[test]
fn a_plan_refuses_negative_hours_and_unknown_rows() {
    let plan = LabourPlan::with(&[(15, h("12")), (16, h("8"))]).unwrap();
    assert_eq!(plan.total(), Hours::from_whole(220));
    let err = LabourPlan::with(&[(3, h("-1"))]).unwrap_err().to_string();
    assert!(err.contains("row 3") && err.contains("negative"), "{err}");
    assert!(LabourPlan::with(&[(18, h("1"))]).is_err());
    assert!(LabourPlan::with(&[(0, h("1"))]).is_err());
    assert!(LabourPlan::with(&[(1, h("2001"))]).is_err());
}

#[test]
fn an_entry_is_refused_when_negative_in_the_future_or_over_24_hours_a_day() {
    let today = date!(2027 - 01 - 20);
    let day = date!(2027 - 01 - 18);
    assert!(entry(1, " 鈴木 ", day, "8").checked(today, &[]).is_ok());
    assert_eq!(
        entry(1, " 鈴木 ", day, "8")
            .checked(today, &[])
            .unwrap()
            .person,
        "鈴木"
    );
    let err = entry(1, "鈴木", day, "-1")
        .checked(today, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("negative"), "{err}");
    assert!(entry(1, "鈴木", day, "0").checked(today, &[]).is_err());
    let err = entry(1, "鈴木", date!(2027 - 01 - 25), "1")
        .checked(today, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("future"), "{err}");
    let others = [entry(3, "鈴木", day, "20"), entry(3, "佐藤", day, "20")];
    let err = entry(1, "鈴木", day, "4.5")
        .checked(today, &others)
        .unwrap_err()
        .to_string();
    assert!(err.contains("24.50") && err.contains("鈴木"), "{err}");
    assert!(entry(1, "鈴木", day, "4").checked(today, &others).is_ok());
    assert!(entry(1, "", day, "4").checked(today, &[]).is_err());
    assert!(entry(18, "鈴木", day, "4").checked(today, &[]).is_err());
}

#[test]
fn weeks_start_on_monday_and_the_unreported_ones_are_found() {
    assert_eq!(week_of(date!(2027 - 01 - 20)), date!(2027 - 01 - 18));
    assert_eq!(week_of(date!(2027 - 01 - 24)), date!(2027 - 01 - 18));
    assert_eq!(week_of(date!(2027 - 01 - 18)), date!(2027 - 01 - 18));
    let missing = missing_weeks(
        date!(2027 - 01 - 06),
        date!(2027 - 01 - 27),
        &[date!(2027 - 01 - 04), date!(2027 - 01 - 18)],
    );
    // The week of the 25th has not ended: not missing yet.
    assert_eq!(missing, [date!(2027 - 01 - 11)]);
}

#[test]
fn only_the_company_reports_and_only_the_supervisor_acknowledges_or_returns() {
    use WeekState::*;
    use WeekStep::*;
    assert_eq!(week_step(Open, Submit, false), Ok(Submitted));
    assert_eq!(week_step(Submitted, Acknowledge, true), Ok(Acknowledged));
    assert_eq!(week_step(Submitted, Return, true), Ok(Open));
    assert!(
        week_step(Open, Submit, true)
            .unwrap_err()
            .contains("survey company")
    );
    assert!(
        week_step(Submitted, Acknowledge, false)
            .unwrap_err()
            .contains("supervisor")
    );
    assert!(week_step(Acknowledged, Return, true).is_err());
    assert!(check_editable(date!(2027 - 01 - 18), Acknowledged).is_err());
    assert!(check_editable(date!(2027 - 01 - 18), Submitted).is_ok());
}

fn context(today: Date) -> LabourContext {
    LabourContext {
        rate_yen: 10_000,
        cap_yen: 3_000_000,
        deliverables: vec![(DeliverableKind::Backups, DeliverableState::Approved)],
        late_from: Some(date!(2027 - 01 - 15)),
        today,
        missing_weeks: vec![],
    }
}

#[test]
fn the_summary_totals_rows_and_weeks_and_forecasts_at_completion() {
    let plan = LabourPlan::default();
    let entries = [
        entry(1, "鈴木", date!(2026 - 12 - 07), "20"),
        entry(7, "鈴木", date!(2026 - 12 - 08), "2"),
        entry(8, "佐藤", date!(2026 - 12 - 15), "10"),
    ];
    let s = summarise(&plan, &entries, &context(date!(2026 - 12 - 20)));
    assert_eq!(s.plan, Hours::from_whole(200));
    assert_eq!(s.actual, Hours::from_whole(32));
    assert_eq!(s.rows[0].actual, Hours::from_whole(20));
    // Row 1 is over its plan (20 > 16); ④ is approved so rows 7–8 finish
    // at their actual (2 + 10 instead of 4 + 16).
    assert_eq!(s.forecast, Hours::from_whole(200 + 4 - 2 - 6));
    assert_eq!(
        s.weeks,
        [
            (date!(2026 - 12 - 07), Hours::from_whole(22)),
            (date!(2026 - 12 - 14), Hours::from_whole(10)),
        ]
    );
    assert_eq!(s.actual_cost_yen, 320_000);
    assert_eq!(s.plan_cost_yen, 2_000_000);
    assert!(s.alerts.is_empty(), "{:?}", s.alerts);
}

#[test]
fn alerts_fire_at_80_and_100_percent_of_plan_and_cap() {
    let plan = LabourPlan::default();
    let today = date!(2027 - 01 - 10);
    let at = |hours: &str, rate: i64| {
        let mut ctx = context(today);
        ctx.rate_yen = rate;
        summarise(
            &plan,
            &[entry(17, "鈴木", date!(2027 - 01 - 04), hours)],
            &ctx,
        )
        .alerts
        .iter()
        .map(|a| a.kind)
        .collect::<Vec<_>>()
    };
    assert!(at("159.99", 10_000).is_empty());
    assert_eq!(at("160", 10_000), [AlertKind::PlanWarning]);
    assert_eq!(at("200", 10_000), [AlertKind::PlanWarning]);
    assert_eq!(at("200.01", 10_000), [AlertKind::PlanExceeded]);
    // ¥15,000 an hour: 160 h cost ¥2,400,000 (80 % of the cap), 201 h over it.
    assert_eq!(
        at("160", 15_000),
        [AlertKind::PlanWarning, AlertKind::CapWarning]
    );
    assert_eq!(
        at("201", 15_000),
        [AlertKind::PlanExceeded, AlertKind::CapExceeded]
    );
}

#[test]
fn hours_on_a_draft_deliverable_alert_once_the_schedule_is_late_and_missing_weeks_are_named() {
    let plan = LabourPlan::default();
    let entries = [
        entry(9, "鈴木", date!(2027 - 01 - 04), "3"),
        entry(7, "鈴木", date!(2027 - 01 - 04), "3"),
    ];
    let early = summarise(&plan, &entries, &context(date!(2027 - 01 - 10)));
    assert!(early.alerts.is_empty());
    let mut ctx = context(date!(2027 - 01 - 20));
    ctx.missing_weeks = vec![date!(2027 - 01 - 11)];
    let late = summarise(&plan, &entries, &ctx);
    let kinds: Vec<_> = late
        .alerts
        .iter()
        .map(|a| (a.kind, a.detail.as_str()))
        .collect();
    // ⑤ is a draft with hours; ④ is approved.
    assert_eq!(
        kinds,
        [
            (
                AlertKind::DraftLate,
                "⑤外部接続先一覧 および 外部接続先調査履歴"
            ),
            (AlertKind::MissingWeek, "2027-01-11"),
        ]
    );
}
