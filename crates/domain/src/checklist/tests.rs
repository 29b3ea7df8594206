use super::*;
use time::macros::date;

const SMALL: &str = r#"
key = "test-r6"
title_ja = "テスト用チェックリスト"
edition_ja = "令和6年度版"
fiscal_year = 2024
answer_style = "yes-no-dated"

[[forms]]
key = "hospital"
audience = "hospital"
title_ja = "医療機関確認用"

[[forms.sections]]
number = "0"
title_ja = "医療情報システムの有無"
[[forms.sections.items]]
number = "0"
text_ja = "医療情報システムを導入、運用している。"
gate = true
scope = "organisation"
provenance = "verbatim"

[[forms.sections]]
number = "2"
title_ja = "医療情報システムの管理・運用"
[[forms.sections.items]]
number = "2-(4)"
text_ja = "アクセス利用権限を設定している。"
provenance = "quoted"
cells = [{ scope = "server", required_fy = 2023 }, { scope = "terminal-pc", required_fy = 2024 }]
[[forms.sections.items]]
number = "2-(9)"
text_ja = "不要なサービスを停止している。"
provenance = "inferred"
required_fy = 2024
"#;

fn small() -> Framework {
    Framework::from_toml(SMALL).expect("the test framework loads")
}

fn answer(value: AnswerValue) -> Answer {
    Answer {
        value,
        checked_on: Some(date!(2024 - 06 - 01)),
        target_on: None,
        not_understood: String::new(),
    }
}

#[test]
fn shorthand_becomes_one_cell_and_split_items_keep_their_cells() {
    let framework = small();
    let form = framework.form("hospital").expect("form");
    assert_eq!(form.cells().count(), 4);
    let item = form.item("2-(9)").expect("item");
    assert_eq!(
        item.cells,
        vec![Cell {
            scope: Scope::WholeSystem,
            required_fy: Some(2024)
        }]
    );
    assert_eq!(framework.unverified(), vec![("hospital", "2-(9)")]);
    // The stored form reads back the same.
    assert_eq!(
        Framework::from_json(&framework.to_json()).expect("json"),
        framework
    );
}

#[test]
fn a_broken_framework_names_the_form_and_item() {
    let twice = SMALL.replace("number = \"2-(9)\"", "number = \"2-(4)\"");
    let error = Framework::from_toml(&twice).expect_err("duplicate number");
    assert!(error.to_string().contains("hospital 2-(4)"), "{error}");

    let bad_year = SMALL.replace("required_fy = 2024\n\"#", "required_fy = 24\n\"#");
    let bad_year = bad_year.replace(
        "provenance = \"inferred\"\nrequired_fy = 2024",
        "provenance = \"inferred\"\nrequired_fy = 24",
    );
    let error = Framework::from_toml(&bad_year).expect_err("bad year");
    assert!(
        error.to_string().contains("24 is not a fiscal year"),
        "{error}"
    );

    let error = Framework::from_toml(&SMALL.replace("key = \"test-r6\"", "key = \"a b\""))
        .expect_err("bad key");
    assert!(error.to_string().starts_with("key:"), "{error}");
}

#[test]
fn no_needs_a_target_date_when_complete() {
    let framework = small();
    let form = framework.form("hospital").expect("form");
    let item = form.item("2-(4)").expect("item");
    let today = date!(2024 - 07 - 01);
    let no = answer(AnswerValue::No);
    // Saving half-way keeps it; submitting refuses it with the item named.
    assert!(
        no.check(AnswerStyle::YesNoDated, item, Scope::Server, today, false)
            .is_ok()
    );
    let refused = no
        .check(AnswerStyle::YesNoDated, item, Scope::Server, today, true)
        .expect_err("target date missing");
    assert_eq!(refused.item(), "2-(4)");
    assert!(refused.to_string().contains("目標日"));
    // The circle style has no target dates.
    assert!(
        no.check(AnswerStyle::Circle, item, Scope::Server, today, true)
            .is_ok()
    );
    let with_target = Answer {
        target_on: Some(date!(2025 - 03 - 31)),
        ..no.clone()
    };
    assert!(
        with_target
            .check(AnswerStyle::YesNoDated, item, Scope::Server, today, true)
            .is_ok()
    );
    let backwards = Answer {
        target_on: Some(date!(2024 - 05 - 01)),
        ..no.clone()
    };
    assert!(matches!(
        backwards.check(AnswerStyle::YesNoDated, item, Scope::Server, today, true),
        Err(AnswerRefused::TargetBeforeCheck { .. })
    ));
    assert!(matches!(
        no.check(
            AnswerStyle::YesNoDated,
            item,
            Scope::NetworkDevice,
            today,
            false
        ),
        Err(AnswerRefused::UnknownScope { .. })
    ));
    assert!(matches!(
        no.check(
            AnswerStyle::YesNoDated,
            item,
            Scope::Server,
            date!(2024 - 05 - 01),
            false
        ),
        Err(AnswerRefused::CheckedInFuture { .. })
    ));
}

#[test]
fn a_closed_gate_makes_the_rest_not_applicable() {
    let framework = small();
    let form = framework.form("hospital").expect("form");
    let mut answers = BTreeMap::new();
    answers.insert(
        CellKey::new("2-(4)", Scope::Server),
        Answer {
            not_understood: "情報区分とは何か".into(),
            ..answer(AnswerValue::Unknown)
        },
    );
    let open = completion(form, &answers);
    assert_eq!(
        (
            open.applicable,
            open.answered,
            open.unknown,
            open.not_understood
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(open.percent(), 25);

    answers.insert(
        CellKey::new("0", Scope::Organisation),
        answer(AnswerValue::No),
    );
    assert!(gate_closed(form, &answers));
    let closed = completion(form, &answers);
    assert_eq!((closed.applicable, closed.answered), (1, 1));
    assert!(closed.is_complete());
    assert!(
        submission_gaps(
            AnswerStyle::YesNoDated,
            form,
            &answers,
            date!(2024 - 07 - 01)
        )
        .is_empty()
    );
}

#[test]
fn submission_gaps_name_every_missing_cell() {
    let framework = small();
    let form = framework.form("hospital").expect("form");
    let mut answers = BTreeMap::new();
    answers.insert(
        CellKey::new("0", Scope::Organisation),
        answer(AnswerValue::Yes),
    );
    answers.insert(
        CellKey::new("2-(4)", Scope::Server),
        answer(AnswerValue::No),
    );
    let gaps = submission_gaps(
        AnswerStyle::YesNoDated,
        form,
        &answers,
        date!(2024 - 07 - 01),
    );
    let keys: Vec<_> = gaps
        .iter()
        .map(|(k, _)| (k.item.as_str(), k.scope))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("2-(4)", Scope::Server),
            ("2-(4)", Scope::TerminalPc),
            ("2-(9)", Scope::WholeSystem)
        ]
    );
    assert!(gaps[0].1.contains("目標日"));
}

#[test]
fn reconciliation_shows_differences_and_open_items() {
    let framework = small();
    let form = framework.form("hospital").expect("form");
    let mut own = BTreeMap::new();
    own.insert(
        CellKey::new("2-(4)", Scope::Server),
        answer(AnswerValue::Yes),
    );
    own.insert(
        CellKey::new("2-(9)", Scope::WholeSystem),
        answer(AnswerValue::Yes),
    );
    let mut confirmed = BTreeMap::new();
    confirmed.insert(
        CellKey::new("2-(4)", Scope::Server),
        Confirmation {
            value: Some(AnswerValue::No),
            open: false,
        },
    );
    confirmed.insert(
        CellKey::new("2-(9)", Scope::WholeSystem),
        Confirmation {
            value: None,
            open: true,
        },
    );
    let rows = reconcile(form, &own, &confirmed);
    let differing: Vec<_> = rows
        .iter()
        .filter(|r| r.differs())
        .map(|r| &r.key.item)
        .collect();
    assert_eq!(differing, vec!["2-(4)"]);
    let pending: Vec<_> = rows
        .iter()
        .filter(|r| r.pending())
        .map(|r| (r.key.item.as_str(), r.key.scope))
        .collect();
    assert_eq!(
        pending,
        vec![
            ("0", Scope::Organisation),
            ("2-(4)", Scope::TerminalPc),
            ("2-(9)", Scope::WholeSystem)
        ]
    );
}

#[test]
fn a_request_lapses_to_not_submitted_after_its_week() {
    let requested = date!(2024 - 12 - 02);
    let due = default_request_due(requested);
    assert_eq!(due, date!(2024 - 12 - 09));
    assert_eq!(
        request_status_on(RequestStatus::Requested, due, due),
        RequestStatus::Requested
    );
    assert_eq!(
        request_status_on(RequestStatus::Requested, due, date!(2024 - 12 - 10)),
        RequestStatus::NotSubmitted
    );
    assert_eq!(
        request_status_on(RequestStatus::Received, due, date!(2025 - 01 - 10)),
        RequestStatus::Received
    );
    assert!(check_request_dates(requested, date!(2024 - 12 - 01), requested).is_err());
    assert!(check_request_dates(date!(2024 - 12 - 03), due, requested).is_err());
}

#[test]
fn marks_read_back_in_both_styles() {
    for value in AnswerValue::ALL {
        for style in AnswerStyle::ALL {
            assert_eq!(AnswerValue::from_mark(value.mark(*style)), Some(*value));
        }
    }
    assert_eq!(AnswerValue::from_mark(" 〇 "), Some(AnswerValue::Yes));
    assert_eq!(AnswerValue::from_mark("たぶん"), None);
}
