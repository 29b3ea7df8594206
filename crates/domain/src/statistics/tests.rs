use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// `count` hospitals numbered from `first`, each giving `value`.
fn hospitals(first: u64, count: u64, value: f64) -> Vec<Contribution> {
    (first..first + count)
        .map(|hospital| Contribution { hospital, value })
        .collect()
}

fn table(measure: Measure, cells: Vec<Vec<Vec<Contribution>>>, totals: bool) -> RawTable {
    RawTable {
        id: "t1".into(),
        title_ja: "表".into(),
        title_en: "table".into(),
        measure,
        rows: (0..cells.len()).map(|r| format!("r{r}")).collect(),
        columns: (0..cells.first().map_or(0, Vec::len))
            .map(|c| format!("c{c}"))
            .collect(),
        rows_en: Vec::new(),
        columns_en: Vec::new(),
        cells,
        totals,
        rows_only: false,
    }
}

fn rules(k: u32) -> DisclosureRules {
    DisclosureRules::new(k).unwrap()
}

/// The published grid, row-major with the totals last (as in `grid`).
fn grid_of(table: &ProtectedTable) -> Vec<Vec<PublishedCell>> {
    let mut grid: Vec<Vec<PublishedCell>> = table
        .cells
        .iter()
        .zip(&table.row_totals)
        .map(|(row, total)| row.iter().cloned().chain([total.clone()]).collect())
        .collect();
    grid.push(
        table
            .column_totals
            .iter()
            .cloned()
            .chain(table.total.clone())
            .collect(),
    );
    grid
}

/// The hospitals behind entry (r, c) of the grid and the sum of their
/// contributions, recomputed from the raw table the plain way.
fn raw_entry(raw: &RawTable, r: usize, c: usize) -> (BTreeMap<u64, f64>, f64) {
    let rows = if r == raw.rows.len() {
        0..raw.rows.len()
    } else {
        r..r + 1
    };
    let mut by_hospital = BTreeMap::new();
    let mut sum = 0.0;
    for r in rows {
        let columns = if c == raw.columns.len() {
            0..raw.columns.len()
        } else {
            c..c + 1
        };
        for c in columns {
            for x in &raw.cells[r][c] {
                *by_hospital.entry(x.hospital).or_insert(0.0) += x.value;
                sum += x.value;
            }
        }
    }
    (by_hospital, sum)
}

/// Every contribution to entry (r, c) of the grid, as given.
fn raw_values(raw: &RawTable, r: usize, c: usize) -> Vec<f64> {
    let mut values = Vec::new();
    for (i, row) in raw.cells.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            if (r == raw.rows.len() || r == i) && (c == raw.columns.len() || c == j) {
                values.extend(cell.iter().map(|x| x.value));
            }
        }
    }
    values
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

/// The attacker a reader is: solves every row or column equation with one
/// unknown, again and again, in the quantities that add up (the value for a
/// count or sum, value × hospitals for a share or mean). Returns the
/// withheld entries of the grid it worked out; checks that what it worked
/// out is right, so the attack is real.
fn derivable(table: &ProtectedTable, raw: &RawTable) -> Vec<(usize, usize)> {
    if table.total.is_none() {
        return Vec::new();
    }
    let grid = grid_of(table);
    let (height, width) = (grid.len(), grid[0].len());
    let mut known: Vec<Vec<Option<f64>>> = grid
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    PublishedCell::Value { value, hospitals } => Some(match table.measure {
                        Measure::Count | Measure::Sum => *value,
                        Measure::Share | Measure::Mean => value * f64::from(*hospitals),
                    }),
                    PublishedCell::Suppressed(_) => None,
                })
                .collect()
        })
        .collect();
    let mut found = Vec::new();
    loop {
        let mut progress = false;
        let lines = (0..height)
            .map(|r| (0..width).map(|c| (r, c)).collect::<Vec<_>>())
            .chain((0..width).map(|c| (0..height).map(|r| (r, c)).collect::<Vec<_>>()));
        for line in lines {
            let unknown: Vec<usize> = (0..line.len())
                .filter(|&i| known[line[i].0][line[i].1].is_none())
                .collect();
            if unknown.len() != 1 {
                continue;
            }
            let gap = unknown[0];
            let last = line.len() - 1;
            // Σ cells − total = 0.
            let rest: f64 = (0..line.len())
                .filter(|&i| i != gap)
                .map(|i| {
                    let v = known[line[i].0][line[i].1].unwrap();
                    if i == last { -v } else { v }
                })
                .sum();
            let solved = if gap == last { rest } else { -rest };
            let (r, c) = line[gap];
            let truth = raw_entry(raw, r, c).1;
            assert!(
                close(solved, truth),
                "attacker solved {solved}, truth {truth}"
            );
            known[r][c] = Some(solved);
            found.push((r, c));
            progress = true;
        }
        if !progress {
            found.sort_unstable();
            return found;
        }
    }
}

/// The stronger attacker: linear algebra over every equation at once. An
/// unknown is determined when, in the reduced system, its pivot row has no
/// free unknown left.
fn determined(table: &ProtectedTable) -> Vec<(usize, usize)> {
    if table.total.is_none() {
        return Vec::new();
    }
    let grid = grid_of(table);
    let (height, width) = (grid.len(), grid[0].len());
    let unknowns: Vec<(usize, usize)> = (0..height)
        .flat_map(|r| (0..width).map(move |c| (r, c)))
        .filter(|&(r, c)| grid[r][c].is_suppressed())
        .collect();
    let column_of = |r: usize, c: usize| unknowns.iter().position(|&u| u == (r, c));
    let mut equations: Vec<Vec<f64>> = Vec::new();
    for r in 0..height {
        let mut row = vec![0.0; unknowns.len()];
        for c in 0..width {
            if let Some(u) = column_of(r, c) {
                row[u] = if c == width - 1 { -1.0 } else { 1.0 };
            }
        }
        equations.push(row);
    }
    for c in 0..width {
        let mut row = vec![0.0; unknowns.len()];
        for r in 0..height {
            if let Some(u) = column_of(r, c) {
                row[u] = if r == height - 1 { -1.0 } else { 1.0 };
            }
        }
        equations.push(row);
    }
    // Reduced row echelon form.
    let mut pivots = Vec::new();
    let mut next = 0;
    for col in 0..unknowns.len() {
        let Some(p) = (next..equations.len()).find(|&i| equations[i][col].abs() > 1e-9) else {
            continue;
        };
        equations.swap(next, p);
        let lead = equations[next][col];
        for v in equations[next].iter_mut() {
            *v /= lead;
        }
        for i in 0..equations.len() {
            if i != next && equations[i][col].abs() > 1e-9 {
                let factor = equations[i][col];
                let pivot_row = equations[next].clone();
                for (v, p) in equations[i].iter_mut().zip(pivot_row) {
                    *v -= factor * p;
                }
            }
        }
        pivots.push((next, col));
        next += 1;
    }
    let pivot_columns: BTreeSet<usize> = pivots.iter().map(|&(_, col)| col).collect();
    pivots
        .into_iter()
        .filter(|&(row, _)| {
            (0..unknowns.len())
                .filter(|col| !pivot_columns.contains(col))
                .all(|free| equations[row][free].abs() <= 1e-9)
        })
        .map(|(_, col)| unknowns[col])
        .collect()
}

fn reasons_at(table: &ProtectedTable) -> BTreeMap<(usize, usize), Suppression> {
    let grid = grid_of(table);
    let mut found = BTreeMap::new();
    for (r, row) in grid.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let PublishedCell::Suppressed(reason) = cell {
                found.insert((r, c), reason.clone());
            }
        }
    }
    found
}

#[test]
fn k_below_three_is_refused_in_both_languages() {
    assert_eq!(
        DisclosureRules::new(2),
        Err(DomainError::invalid(
            "k",
            "k は 3 以上にしてください / k must be at least 3"
        ))
    );
    assert!(DisclosureRules::new(0).is_err());
    assert_eq!(
        DisclosureRules::new(1001),
        Err(DomainError::invalid(
            "k",
            "k は 1000 以下にしてください / k must be at most 1000"
        ))
    );
    assert_eq!(
        DisclosureRules::new(3),
        Ok(DisclosureRules {
            k: 3,
            dominance: 0.8
        })
    );
    assert_eq!(
        DisclosureRules::default(),
        DisclosureRules {
            k: DEFAULT_K,
            dominance: DEFAULT_DOMINANCE
        }
    );
    assert!(DisclosureRules::with_dominance(5, 0.4).is_err());
    assert!(DisclosureRules::with_dominance(5, f64::NAN).is_err());
    assert!(DisclosureRules::with_dominance(5, 1.0).is_ok());
}

#[test]
fn a_cell_of_two_hospitals_is_withheld_with_one_more_in_its_row_and_its_column() {
    // Hospitals per cell; every hospital is in one cell and counts 1.
    let counts = [[2, 5, 3], [4, 5, 6], [6, 5, 4]];
    let mut next = 0;
    let cells = counts
        .iter()
        .map(|row| {
            row.iter()
                .map(|&n| {
                    let cell = hospitals(next, n, 1.0);
                    next += n;
                    cell
                })
                .collect()
        })
        .collect();
    let raw = table(Measure::Count, cells, true);
    let out = protect(&raw, &rules(3));
    let expected = BTreeMap::from([
        ((0, 0), Suppression::TooFew { hospitals: 2 }),
        // Row 0: (0,2) has fewer hospitals (3) than (0,1) (5).
        ((0, 2), Suppression::Complementary),
        // Column 0: (1,0) has fewer hospitals (4) than (2,0) (6).
        ((1, 0), Suppression::Complementary),
        // Column 2 now holds one: (1,2) closes row 1 at the same time, so it
        // is preferred to (2,2), which has fewer hospitals but would leave
        // row 1 open and suppress more in the end.
        ((1, 2), Suppression::Complementary),
    ]);
    assert_eq!(reasons_at(&out), expected);
    assert_eq!(
        out.row_totals[0],
        PublishedCell::Value {
            value: 10.0,
            hospitals: 10
        }
    );
    assert_eq!(
        out.total,
        Some(PublishedCell::Value {
            value: 40.0,
            hospitals: 40
        })
    );
    assert!(derivable(&out, &raw).is_empty());
    assert!(determined(&out).is_empty());
    assert_eq!(
        out.suppressed()
            .into_iter()
            .map(|(r, c, _)| format!("{r}/{c}"))
            .collect::<Vec<_>>(),
        ["r0/c0", "r0/c2", "r1/c0", "r1/c2"]
    );
}

#[test]
fn the_attacker_works_out_a_cell_left_alone_in_its_row() {
    let cells = vec![vec![hospitals(0, 2, 1.0), hospitals(10, 5, 1.0)]];
    let raw = table(Measure::Count, cells, true);
    let mut out = protect(&raw, &rules(3));
    // Publish the complementary cells again, as a careless releaser would.
    for (r, row) in out.cells.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            if *cell == PublishedCell::Suppressed(Suppression::Complementary) {
                let (by_hospital, sum) = raw_entry(&raw, r, c);
                *cell = PublishedCell::Value {
                    value: sum,
                    hospitals: by_hospital.len() as u32,
                };
            }
        }
    }
    assert!(derivable(&out, &raw).contains(&(0, 0)));
    assert!(determined(&out).contains(&(0, 0)));
}

#[test]
fn one_hospital_with_ninety_of_a_hundred_hours_dominates() {
    let mut cell = vec![Contribution {
        hospital: 1,
        value: 90.0,
    }];
    cell.extend(hospitals(2, 4, 2.5));
    let raw = table(Measure::Sum, vec![vec![cell]], false);
    let out = protect(&raw, &rules(3));
    assert_eq!(
        out.cells[0][0],
        PublishedCell::Suppressed(Suppression::Dominance { share: 0.9 })
    );

    // Exactly at the threshold is still published; so is a mean.
    let mut cell = vec![Contribution {
        hospital: 1,
        value: 80.0,
    }];
    cell.extend(hospitals(2, 4, 5.0));
    let raw = table(Measure::Sum, vec![vec![cell.clone()]], false);
    assert_eq!(
        protect(&raw, &rules(3)).cells[0][0],
        PublishedCell::Value {
            value: 100.0,
            hospitals: 5
        }
    );
    let raw = table(Measure::Mean, vec![vec![cell]], false);
    assert_eq!(
        protect(&raw, &rules(3)).cells[0][0],
        PublishedCell::Value {
            value: 20.0,
            hospitals: 5
        }
    );
}

#[test]
fn a_share_every_hospital_answered_alike_is_withheld() {
    // Six hospitals, none with an offline backup.
    let none = table(Measure::Share, vec![vec![hospitals(0, 6, 0.0)]], false);
    assert_eq!(
        protect(&none, &rules(5)).cells[0][0],
        PublishedCell::Suppressed(Suppression::Uniform)
    );
    let all = table(Measure::Share, vec![vec![hospitals(0, 6, 1.0)]], false);
    assert_eq!(
        protect(&all, &rules(5)).cells[0][0],
        PublishedCell::Suppressed(Suppression::Uniform)
    );
    let mut mixed = hospitals(0, 3, 0.0);
    mixed.extend(hospitals(3, 3, 1.0));
    let mixed = table(Measure::Share, vec![vec![mixed]], false);
    assert_eq!(
        protect(&mixed, &rules(5)).cells[0][0],
        PublishedCell::Value {
            value: 0.5,
            hospitals: 6
        }
    );
    // Too few comes first.
    let few = table(Measure::Share, vec![vec![hospitals(0, 2, 0.0)]], false);
    assert_eq!(
        protect(&few, &rules(3)).cells[0][0],
        PublishedCell::Suppressed(Suppression::TooFew { hospitals: 2 })
    );
}

#[test]
fn totals_of_too_few_hospitals_are_withheld_and_empty_cells_published() {
    let raw = table(
        Measure::Count,
        vec![vec![Vec::new(), hospitals(0, 3, 2.0)]],
        true,
    );
    let out = protect(&raw, &rules(5));
    assert_eq!(
        out.cells[0][0],
        PublishedCell::Value {
            value: 0.0,
            hospitals: 0
        }
    );
    let few = PublishedCell::Suppressed(Suppression::TooFew { hospitals: 3 });
    assert_eq!(out.cells[0][1], few);
    assert_eq!(out.row_totals, std::slice::from_ref(&few));
    assert_eq!(
        out.column_totals,
        [
            PublishedCell::Value {
                value: 0.0,
                hospitals: 0
            },
            few.clone()
        ]
    );
    assert_eq!(out.total, Some(few));
    assert!(derivable(&out, &raw).is_empty());
    assert!(determined(&out).is_empty());
}

#[test]
fn a_hospital_in_two_cells_of_a_row_counts_once_in_the_row_total() {
    let raw = table(
        Measure::Mean,
        vec![vec![hospitals(0, 3, 2.0), hospitals(0, 3, 4.0)]],
        true,
    );
    let out = protect(&raw, &rules(3));
    assert_eq!(
        out.row_totals[0],
        PublishedCell::Value {
            value: 6.0,
            hospitals: 3
        }
    );
    assert_eq!(
        out.cells[0],
        [
            PublishedCell::Value {
                value: 2.0,
                hospitals: 3
            },
            PublishedCell::Value {
                value: 4.0,
                hospitals: 3
            }
        ]
    );
}

#[test]
fn without_totals_nothing_more_is_withheld() {
    let cells = vec![
        vec![hospitals(0, 2, 1.0), hospitals(10, 5, 1.0)],
        vec![hospitals(20, 5, 1.0), hospitals(30, 5, 1.0)],
    ];
    let out = protect(&table(Measure::Count, cells, false), &rules(3));
    assert_eq!(out.suppressed().len(), 1);
    assert!(out.row_totals.is_empty() && out.column_totals.is_empty());
    assert_eq!(out.total, None);
}

#[test]
fn a_withheld_entry_between_two_cycles_is_put_on_a_third() {
    // Rows 0–1 × columns 0–1 and rows 2–3 × columns 2–3 are closed, and
    // (1,2) joins them: every line holds two or more, but adding up the
    // equations of rows 0–1 and columns 0–1 leaves (1,2) alone.
    let (height, width) = (5, 5);
    let mut reasons = vec![None; height * width];
    for (r, c) in [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
        (2, 2),
        (2, 3),
        (3, 2),
        (3, 3),
    ] {
        reasons[r * width + c] = Some(Suppression::Complementary);
    }
    reasons[width + 2] = Some(Suppression::TooFew { hospitals: 1 });
    let hospitals = vec![5; height * width];
    let before = reasons.clone();
    grid::complete(height, width, &hospitals, &mut reasons);
    let added: Vec<(usize, usize)> = (0..reasons.len())
        .filter(|&at| reasons[at] != before[at])
        .map(|at| (at / width, at % width))
        .collect();
    // The first cell joining the two sides.
    assert_eq!(added, [(0, 2)]);
}

#[test]
fn reasons_read_in_japanese_and_english() {
    let few = Suppression::TooFew { hospitals: 2 };
    assert_eq!(few.reason_ja(), "集計対象の病院が 2 施設と少ないため秘匿");
    assert_eq!(few.reason_en(), "suppressed: only 2 hospitals contribute");
    assert_eq!(
        Suppression::TooFew { hospitals: 1 }.reason("en"),
        "suppressed: only 1 hospital contributes"
    );
    let dominant = Suppression::Dominance { share: 0.9 };
    assert_eq!(dominant.reason_ja(), "1 施設が全体の 90% を占めるため秘匿");
    assert_eq!(
        dominant.reason_en(),
        "suppressed: one hospital makes up 90% of the value"
    );
    assert!(
        Suppression::Dominance { share: 0.8534 }
            .reason_en()
            .contains("85.3%")
    );
    assert!(Suppression::Uniform.reason("ja").contains("同じ回答"));
    assert!(Suppression::Complementary.reason_ja().contains("二次秘匿"));
    assert!(
        Suppression::Complementary
            .reason_en()
            .contains("secondary suppression")
    );
    assert_eq!(Suppression::Withheld.reason_ja(), "秘匿");
}

#[test]
fn publication_drops_the_reasons_and_serialises_plainly() {
    let cells = vec![vec![hospitals(0, 2, 1.0), hospitals(10, 5, 1.0)]];
    let out = protect(&table(Measure::Count, cells, true), &rules(3));
    let public = out.for_publication();
    assert!(
        public
            .suppressed()
            .iter()
            .all(|(_, _, reason)| *reason == Suppression::Withheld)
    );
    assert_eq!(public.suppressed().len(), out.suppressed().len());
    assert_eq!(
        out.suppressed()[0],
        (
            "r0".to_string(),
            "c0".to_string(),
            Suppression::TooFew { hospitals: 2 }
        )
    );
    assert!(
        out.suppressed()
            .iter()
            .any(|(r, c, _)| r == TOTAL_LABEL && c == "c0")
    );

    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(
        json["cells"][0][0],
        serde_json::json!({"cell": "suppressed", "reason": "too-few", "hospitals": 2})
    );
    assert_eq!(json["measure"], "count");
    let back: ProtectedTable = serde_json::from_value(json).unwrap();
    assert_eq!(back, out);
    let public_json = serde_json::to_string(&public).unwrap();
    assert!(!public_json.contains("too-few") && !public_json.contains("hospitals\":2"));
}

#[test]
fn validate_refuses_ragged_cells_and_shares_above_one() {
    let ragged = RawTable {
        columns: vec!["a".into(), "b".into()],
        ..table(Measure::Count, vec![vec![Vec::new()]], true)
    };
    assert!(ragged.validate().is_err());
    let share = table(Measure::Share, vec![vec![hospitals(0, 3, 2.0)]], true);
    assert!(share.validate().is_err());
    let negative = table(Measure::Sum, vec![vec![hospitals(0, 3, -1.0)]], true);
    assert!(negative.validate().is_err());
    assert!(
        table(Measure::Sum, vec![vec![hospitals(0, 3, 1.5)]], true)
            .validate()
            .is_ok()
    );
}

/// Small random tables: 1–4 × 1–4 cells of up to eight hospitals drawn from
/// twenty, every measure, k 3–6, totals on or off.
fn raw_tables() -> impl Strategy<Value = (RawTable, DisclosureRules)> {
    (1usize..=4, 1usize..=4, 0usize..4, 3u32..=6, any::<bool>()).prop_flat_map(
        |(height, width, measure, k, totals)| {
            let measure = Measure::ALL[measure];
            let value = if measure == Measure::Share {
                prop_oneof![4 => Just(0.0), 4 => Just(1.0), 1 => Just(0.5)].boxed()
            } else {
                prop_oneof![3 => 0u32..=5, 1 => 20u32..=60]
                    .prop_map(f64::from)
                    .boxed()
            };
            let cell = proptest::collection::btree_map(0u64..20, value, 0..=8).prop_map(|m| {
                m.into_iter()
                    .map(|(hospital, value)| Contribution { hospital, value })
                    .collect::<Vec<_>>()
            });
            let cells = proptest::collection::vec(proptest::collection::vec(cell, width), height);
            cells.prop_map(move |cells| (table(measure, cells, totals), rules(k)))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn protected_tables_disclose_nothing((raw, rules) in raw_tables()) {
        prop_assert!(raw.validate().is_ok());
        let out = protect(&raw, &rules);

        // (c) Deterministic.
        prop_assert_eq!(&protect(&raw.clone(), &rules), &out);

        prop_assert_eq!(out.cells.len(), raw.rows.len());
        prop_assert_eq!(out.row_totals.len(), if raw.totals { raw.rows.len() } else { 0 });
        prop_assert_eq!(out.column_totals.len(), if raw.totals { raw.columns.len() } else { 0 });
        prop_assert_eq!(out.total.is_some(), raw.totals);

        let entries: Vec<((usize, usize), PublishedCell)> = if raw.totals {
            grid_of(&out)
                .into_iter()
                .enumerate()
                .flat_map(|(r, row)| row.into_iter().enumerate().map(move |(c, cell)| ((r, c), cell)))
                .collect()
        } else {
            out.cells
                .iter()
                .enumerate()
                .flat_map(|(r, row)| row.iter().cloned().enumerate().map(move |(c, cell)| ((r, c), cell)))
                .collect()
        };
        for ((r, c), cell) in entries {
            let (by_hospital, sum) = raw_entry(&raw, r, c);
            let n = by_hospital.len() as u32;
            let contributions = raw_values(&raw, r, c);
            let largest = by_hospital.values().copied().fold(0.0, f64::max);
            let dominated = matches!(raw.measure, Measure::Count | Measure::Sum)
                && sum > 0.0
                && largest / sum > rules.dominance;
            let uniform = raw.measure == Measure::Share
                && (contributions.iter().all(|&v| v == 0.0) || contributions.iter().all(|&v| v == 1.0));
            let primary = if n == 0 {
                None
            } else if n < rules.k {
                Some(Suppression::TooFew { hospitals: n })
            } else if dominated {
                Some(Suppression::Dominance { share: largest / sum })
            } else if uniform {
                Some(Suppression::Uniform)
            } else {
                None
            };
            match (&cell, primary) {
                (PublishedCell::Value { value, hospitals }, None) => {
                    // (a) Never fewer than k hospitals, unless none.
                    prop_assert!(*hospitals == 0 || *hospitals >= rules.k);
                    // (d) The value is the raw value recomputed.
                    prop_assert_eq!(*hospitals, n);
                    let expected = match raw.measure {
                        Measure::Count | Measure::Sum => sum,
                        Measure::Share | Measure::Mean if n > 0 => sum / f64::from(n),
                        Measure::Share | Measure::Mean => 0.0,
                    };
                    prop_assert!(close(*value, expected), "{} ≠ {} at {:?}", value, expected, (r, c));
                }
                (PublishedCell::Value { .. }, Some(reason)) => {
                    prop_assert!(false, "{:?} published though {:?}", (r, c), reason);
                }
                (PublishedCell::Suppressed(reason), Some(primary)) => {
                    prop_assert_eq!(reason, &primary);
                }
                (PublishedCell::Suppressed(reason), None) => {
                    prop_assert_eq!(reason, &Suppression::Complementary);
                    prop_assert!(raw.totals);
                }
            }
        }

        // (b) No withheld entry can be worked out, one equation at a time or
        // all at once.
        prop_assert_eq!(derivable(&out, &raw), Vec::<(usize, usize)>::new());
        prop_assert_eq!(determined(&out), Vec::<(usize, usize)>::new());
    }
}
