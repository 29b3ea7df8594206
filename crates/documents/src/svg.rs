//! The programme timeline: one row per engagement against the milestones.
//!
//! Month gridlines, dashed milestone lines, a red line for today, and for
//! each engagement a bar from its first to its last event with a dot per
//! event (hover shows the event). Overdue rows are tinted red, closed rows
//! grey. All colours are presentation attributes, never `style`, so the SVG
//! can sit inline in a page under a strict Content-Security-Policy.

use std::fmt::Write as _;

use time::{Date, Month};

use crate::dates::japanese_date;

/// What the timeline shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// First day drawn.
    pub start: Date,
    /// Last day drawn.
    pub end: Date,
    pub today: Date,
    pub milestones: Vec<TimelineMilestone>,
    pub rows: Vec<TimelineRow>,
    /// Legend text for the red line, e.g. `今日（2022年12月5日）`.
    pub legend_today: String,
}

/// A programme date every engagement is measured against.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineMilestone {
    pub date: Date,
    pub label: String,
}

/// One engagement.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub label: String,
    /// The engagement's state, shown under the label.
    pub state_label: String,
    pub events: Vec<TimelineEvent>,
    pub overdue: bool,
    pub closed: bool,
}

/// Something that happened (or is planned) in an engagement.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    pub date: Date,
    pub label: String,
}

const WIDTH: f64 = 960.0;
const LABEL_X: f64 = 8.0;
const LABEL_WIDTH: f64 = 226.0;
const CHART_LEFT: f64 = 246.0;
const CHART_RIGHT: f64 = 944.0;
const HEADER_HEIGHT: f64 = 78.0;
const ROW_HEIGHT: f64 = 36.0;
const LEGEND_HEIGHT: f64 = 34.0;
/// Japanese font fallbacks, for every SVG this crate draws.
pub(crate) const FONT: &str =
    "'IPAexGothic','Hiragino Sans','Noto Sans CJK JP','Yu Gothic',sans-serif";

/// Draw the timeline as a standalone SVG document (UTF-8, no XML prolog so
/// it can also be inlined into HTML).
pub fn timeline_svg(input: &Timeline) -> String {
    let rows_height = ROW_HEIGHT * input.rows.len().max(1) as f64;
    let chart_bottom = HEADER_HEIGHT + rows_height;
    let height = chart_bottom + LEGEND_HEIGHT;
    let scale = Scale::new(input.start, input.end);

    let mut out = String::with_capacity(4096 + 1024 * input.rows.len());
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" font-size="12" role="img">"#,
        w = num(WIDTH),
        h = num(height),
    );
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        num(WIDTH),
        num(height)
    );

    // Row backgrounds first, so every line is drawn over them.
    for (i, row) in input.rows.iter().enumerate() {
        let top = HEADER_HEIGHT + ROW_HEIGHT * i as f64;
        let fill = if row.overdue {
            "#fdecea"
        } else if i % 2 == 1 {
            "#f7f8fa"
        } else {
            "#ffffff"
        };
        let _ = write!(
            out,
            r##"<rect x="0" y="{}" width="{}" height="{}" fill="{fill}"/>"##,
            num(top),
            num(WIDTH),
            num(ROW_HEIGHT)
        );
    }

    month_grid(&mut out, &scale, input.start, input.end, chart_bottom);
    milestones(&mut out, &scale, &input.milestones, chart_bottom);

    for (i, row) in input.rows.iter().enumerate() {
        engagement_row(&mut out, &scale, row, HEADER_HEIGHT + ROW_HEIGHT * i as f64);
    }

    // Today, over everything but the legend.
    if scale.contains(input.today) {
        let x = scale.x(input.today);
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#d32f2f" stroke-width="2"><title>{}</title></line>"##,
            num(HEADER_HEIGHT - 6.0),
            num(chart_bottom),
            escape(&format!(
                "{} {}",
                input.legend_today,
                japanese_date(input.today)
            )),
            x = num(x),
        );
    }

    // Legend.
    let y = chart_bottom + LEGEND_HEIGHT / 2.0;
    let _ = write!(
        out,
        r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#d32f2f" stroke-width="2"/><text x="{tx}" y="{ty}" fill="#333333">{}</text>"##,
        escape(&input.legend_today),
        x1 = num(CHART_LEFT),
        x2 = num(CHART_LEFT + 24.0),
        y = num(y),
        tx = num(CHART_LEFT + 30.0),
        ty = num(y + 4.0),
    );

    out.push_str("</svg>");
    out
}

/// Days to x coordinates.
struct Scale {
    start: Date,
    end: Date,
    per_day: f64,
}

impl Scale {
    fn new(start: Date, end: Date) -> Self {
        let days = (end - start).whole_days().max(1) as f64;
        Scale {
            start,
            end,
            per_day: (CHART_RIGHT - CHART_LEFT) / days,
        }
    }

    fn x(&self, date: Date) -> f64 {
        let days = (date - self.start).whole_days() as f64;
        (CHART_LEFT + days * self.per_day).clamp(CHART_LEFT, CHART_RIGHT)
    }

    fn contains(&self, date: Date) -> bool {
        date >= self.start && date <= self.end
    }
}

fn month_grid(out: &mut String, scale: &Scale, start: Date, end: Date, bottom: f64) {
    let mut month = Date::from_calendar_date(start.year(), start.month(), 1).ok();
    let mut first_label = true;
    while let Some(day) = month {
        if day > end {
            break;
        }
        if day >= start {
            let x = scale.x(day);
            let _ = write!(
                out,
                r##"<line x1="{x}" y1="24" x2="{x}" y2="{}" stroke="#d0d4da" stroke-width="1"/>"##,
                num(bottom),
                x = num(x),
            );
            if first_label || day.month() == Month::January {
                let _ = write!(
                    out,
                    r##"<text x="{}" y="14" font-size="11" fill="#555555">{}年</text>"##,
                    num(x + 3.0),
                    day.year()
                );
                first_label = false;
            }
            let _ = write!(
                out,
                r##"<text x="{}" y="36" fill="#333333">{}月</text>"##,
                num(x + 3.0),
                u8::from(day.month())
            );
        }
        month = next_month(day);
    }
}

fn next_month(day: Date) -> Option<Date> {
    let (year, month) = match day.month() {
        Month::December => (day.year() + 1, Month::January),
        m => (day.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).ok()
}

fn milestones(out: &mut String, scale: &Scale, milestones: &[TimelineMilestone], bottom: f64) {
    let mut shown = 0;
    for milestone in milestones {
        if !scale.contains(milestone.date) {
            continue;
        }
        let x = scale.x(milestone.date);
        let tooltip = escape(&format!(
            "{} {}",
            milestone.label,
            japanese_date(milestone.date)
        ));
        // Two label levels so neighbouring milestones do not overprint.
        let label_y = if shown % 2 == 0 { 52.0 } else { 68.0 };
        shown += 1;
        let _ = write!(
            out,
            r##"<g><title>{tooltip}</title><line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#5c6bc0" stroke-width="1.2" stroke-dasharray="5 4"/><text x="{}" y="{}" font-size="11" fill="#3949ab">{}</text></g>"##,
            num(label_y + 3.0),
            num(bottom),
            num(x + 3.0),
            num(label_y),
            escape(&truncate(&milestone.label, 150.0, 11.0)),
            x = num(x),
        );
    }
}

fn engagement_row(out: &mut String, scale: &Scale, row: &TimelineRow, top: f64) {
    let (label_fill, bar_fill, dot_fill) = if row.closed {
        ("#8a8a8a", "#c4c4c4", "#9e9e9e")
    } else if row.overdue {
        ("#b71c1c", "#ef9a9a", "#c62828")
    } else {
        ("#1f2933", "#9fb9e3", "#1f4e9c")
    };
    let _ = write!(
        out,
        "<g><title>{}</title>",
        escape(&format!("{} — {}", row.label, row.state_label))
    );
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="13" fill="{label_fill}">{}</text>"#,
        num(LABEL_X),
        num(top + 16.0),
        escape(&truncate(&row.label, LABEL_WIDTH, 13.0))
    );
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="11" fill="{label_fill}">{}</text>"#,
        num(LABEL_X),
        num(top + 30.0),
        escape(&truncate(&row.state_label, LABEL_WIDTH, 11.0))
    );
    out.push_str("</g>");

    let middle = top + ROW_HEIGHT / 2.0;
    let first = row.events.iter().map(|e| e.date).min();
    let last = row.events.iter().map(|e| e.date).max();
    if let (Some(first), Some(last)) = (first, last)
        && last >= scale.start
        && first <= scale.end
    {
        let x1 = scale.x(first);
        let x2 = scale.x(last).max(x1 + 2.0);
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="10" rx="5" fill="{bar_fill}"/>"#,
            num(x1),
            num(middle - 5.0),
            num(x2 - x1),
        );
    }
    for event in &row.events {
        if !scale.contains(event.date) {
            continue;
        }
        let _ = write!(
            out,
            r##"<circle cx="{}" cy="{}" r="5" fill="{dot_fill}" stroke="#ffffff" stroke-width="1.5"><title>{}</title></circle>"##,
            num(scale.x(event.date)),
            num(middle),
            escape(&format!("{} {}", japanese_date(event.date), event.label)),
        );
    }
}

/// Shorten `text` to about `width` pixels at `size`, ending in `…`; the
/// whole text is in the row's tooltip.
pub(crate) fn truncate(text: &str, width: f64, size: f64) -> String {
    let advance = |c: char| char_width(c, size);
    if text_width(text, size) <= width {
        return text.to_owned();
    }
    let mut used = advance('…');
    let mut out = String::new();
    for c in text.chars() {
        used += advance(c);
        if used > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The estimated width of one character at `size`: ASCII about 0.6 em,
/// everything else (kana, kanji, full-width forms) one em.
fn char_width(c: char, size: f64) -> f64 {
    if c.is_ascii() { 0.6 * size } else { size }
}

/// The estimated width of `text` at `size`, as [`truncate`] measures it.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(|c| char_width(c, size)).sum()
}

/// Escape for XML text and attribute values, dropping characters XML 1.0
/// cannot carry at all (they would make the document unreadable).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Coordinates with one decimal, without a trailing `.0`.
pub(crate) fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// A round step (1, 2 or 5 × 10ⁿ) giving about five ticks up to `max`.
pub(crate) fn nice_step(max: f64) -> f64 {
    let raw = max.max(1.0) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;
    use time::macros::date;

    fn event(date: Date, label: &str) -> TimelineEvent {
        TimelineEvent {
            date,
            label: label.to_owned(),
        }
    }

    fn sample() -> Timeline {
        Timeline {
            start: date!(2022 - 10 - 15),
            end: date!(2023 - 03 - 31),
            today: date!(2022 - 12 - 05),
            milestones: vec![
                TimelineMilestone {
                    date: date!(2022 - 11 - 21),
                    label: "依頼状発送".to_owned(),
                },
                TimelineMilestone {
                    date: date!(2023 - 02 - 28),
                    label: "報告書締切".to_owned(),
                },
            ],
            rows: vec![
                TimelineRow {
                    label: "さくら台総合病院 × みなとセキュリティ".to_owned(),
                    state_label: "調査中".to_owned(),
                    events: vec![
                        event(date!(2022 - 11 - 01), "NDA締結"),
                        event(date!(2022 - 12 - 01), "訪問調査"),
                    ],
                    overdue: false,
                    closed: false,
                },
                TimelineRow {
                    label: "<script>alert(1)</script>&\"病院\"".to_owned(),
                    state_label: "期限超過 <b>".to_owned(),
                    events: vec![event(date!(2022 - 11 - 10), "a<b & c>\"d\"")],
                    overdue: true,
                    closed: false,
                },
                TimelineRow {
                    label: "中止した病院".to_owned(),
                    state_label: "中止".to_owned(),
                    events: vec![
                        event(date!(2022 - 09 - 01), "範囲外"),
                        event(date!(2022 - 10 - 20), "中止"),
                    ],
                    overdue: false,
                    closed: true,
                },
            ],
            legend_today: "今日".to_owned(),
        }
    }

    /// Parse the whole document; return element names and all text.
    fn parse(svg: &str) -> (Vec<String>, String) {
        let mut reader = Reader::from_str(svg);
        let mut names = Vec::new();
        let mut text = String::new();
        let mut depth = 0i32;
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    names.push(e.name().as_ref().to_owned());
                }
                Ok(Event::Empty(e)) => {
                    names.push(e.name().as_ref().to_owned());
                }
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
                Ok(Event::GeneralRef(r)) => {
                    let c = match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unexpected entity {other}"),
                    };
                    text.push(c);
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(err) => panic!("invalid XML at {}: {err}", reader.buffer_position()),
            }
            assert!(depth >= 0);
        }
        assert_eq!(depth, 0, "unbalanced");
        (names, text)
    }

    #[test]
    fn parses_as_svg_with_rows_months_and_milestones() {
        let svg = timeline_svg(&sample());
        let (names, text) = parse(&svg);
        assert_eq!(names[0], "svg");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for month in ["11月", "12月", "1月", "2月", "3月", "2022年", "2023年"] {
            assert!(text.contains(month), "{month}");
        }
        assert!(!svg.contains(">10月<"), "October 1 is before the start");
        assert!(text.contains("依頼状発送") && text.contains("報告書締切"));
        assert!(text.contains("2022年12月1日 訪問調査"), "event tooltip");
        assert!(text.contains("今日"));
        // Three rows: height grows with them.
        let two = Timeline {
            rows: sample().rows[..2].to_vec(),
            ..sample()
        };
        let height = |svg: &str| {
            let start = svg.find("height=\"").unwrap() + 8;
            let end = svg[start..].find('"').unwrap() + start;
            svg[start..end].parse::<f64>().unwrap()
        };
        assert_eq!(height(&svg) - height(&timeline_svg(&two)), ROW_HEIGHT);
        assert!(svg.contains("stroke=\"#d32f2f\""), "today line");
        assert!(svg.contains("stroke-dasharray"), "milestone lines");
        assert!(svg.contains("#fdecea"), "overdue row tinted");
        assert!(svg.contains("#c4c4c4"), "closed row grey");
        assert!(!svg.contains("style="), "no inline styles (CSP)");
        // Out-of-range event: no dot, bar clamped to the chart.
        assert!(!text.contains("範囲外"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = timeline_svg(&sample());
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;病院&quot;"));
        let (names, text) = parse(&svg);
        assert!(!names.iter().any(|n| n == "script" || n == "b"));
        assert!(text.contains("<script>alert(1)</script>&\"病院\""));
        assert!(text.contains("a<b & c>\"d\""));
        assert_eq!(escape("a\u{1}b\u{fffe}'"), "ab&apos;");
    }

    #[test]
    fn degenerate_inputs_still_parse() {
        let empty = Timeline {
            start: date!(2023 - 01 - 01),
            end: date!(2023 - 01 - 01),
            today: date!(2024 - 01 - 01),
            milestones: vec![],
            rows: vec![TimelineRow {
                label: String::new(),
                state_label: String::new(),
                events: vec![],
                overdue: false,
                closed: false,
            }],
            legend_today: String::new(),
        };
        parse(&timeline_svg(&empty));
        let reversed = Timeline {
            start: date!(2023 - 03 - 01),
            end: date!(2023 - 01 - 01),
            rows: vec![],
            ..empty
        };
        parse(&timeline_svg(&reversed));
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "とても長い病院の名前".repeat(10);
        let short = truncate(&long, LABEL_WIDTH, 13.0);
        assert!(short.ends_with('…'));
        assert!(short.chars().count() < long.chars().count());
        assert_eq!(truncate("短い", LABEL_WIDTH, 13.0), "短い");
    }
}
