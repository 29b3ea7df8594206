//! The burn-up chart: cumulative actual hours week by week against the
//! plan, the labour cap in hours and the forecast at completion. Same
//! drawing conventions as [`crate::svg`]: presentation attributes only (no
//! `style`, for a strict Content-Security-Policy), every text escaped.

use std::fmt::Write as _;

use mamori_domain::labour::Hours;
use time::Date;

use super::{BurnUp, english};
use crate::svg::{FONT, escape, nice_step, num, text_width, truncate};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
/// Room on the right for the forecast marker's label.
const RIGHT: f64 = 640.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 250.0;
/// Space between the plot's edges and the first and last week.
const PAD: f64 = 16.0;

const TEXT: &str = "#333333";
const MUTED: &str = "#555555";
const GRID: &str = "#e3e6eb";
const AXIS: &str = "#9aa1ab";
const ACTUAL: &str = "#1f4e9c";
const PLAN: &str = "#2e7d32";
const CAP: &str = "#d32f2f";
const FORECAST: &str = "#ef6c00";

struct Words {
    actual: &'static str,
    plan: &'static str,
    cap: &'static str,
    forecast: &'static str,
    empty: &'static str,
    hours: &'static str,
}

fn words(language: &str) -> Words {
    if english(language) {
        Words {
            actual: "cumulative actual",
            plan: "planned",
            cap: "labour cap",
            forecast: "forecast",
            empty: "No hours yet",
            hours: "hours",
        }
    } else {
        Words {
            actual: "実績累計",
            plan: "予定工数",
            cap: "人件費上限",
            forecast: "完了見込み",
            empty: "まだ工数の記録がありません",
            hours: "時間",
        }
    }
}

/// `12/07`: the tick label of a week.
fn short_date(date: Date) -> String {
    format!("{:02}/{:02}", u8::from(date.month()), date.day())
}

/// Draw the burn-up chart as a standalone SVG document (no XML prolog, so
/// it can be inlined into HTML) in `language` (`ja` unless `en`).
pub fn burnup_svg(chart: &BurnUp, language: &str) -> String {
    let w = words(language);

    // Weeks in date order, one point per Monday (repeated dates summed).
    let mut weeks: Vec<(Date, Hours)> = Vec::with_capacity(chart.weeks.len());
    let mut sorted = chart.weeks.clone();
    sorted.sort_by_key(|(date, _)| *date);
    for (date, hours) in sorted {
        match weeks.last_mut() {
            Some((last, sum)) if *last == date => *sum += hours,
            _ => weeks.push((date, hours)),
        }
    }
    let cumulative: Vec<(Date, Hours, Hours)> = weeks
        .iter()
        .scan(Hours::ZERO, |sum, (date, hours)| {
            *sum += *hours;
            Some((*date, *hours, *sum))
        })
        .collect();

    // The y axis reaches past everything drawn.
    let highest = cumulative
        .iter()
        .map(|(_, _, c)| *c)
        .chain([chart.plan])
        .chain(chart.cap_hours)
        .chain(chart.forecast)
        .max()
        .unwrap_or_default()
        .as_f64();
    let step = nice_step(highest * 1.05);
    let top = ((highest * 1.05 / step).ceil() * step).max(step);
    let y = |hours: Hours| {
        let value = hours.as_f64().clamp(0.0, top);
        BOTTOM - value / top * (BOTTOM - TOP)
    };

    let (first, last) = match (cumulative.first(), cumulative.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => (Date::MIN, Date::MIN),
    };
    let span = (last - first).whole_days();
    let x = |date: Date| {
        if span <= 0 {
            (LEFT + RIGHT) / 2.0
        } else {
            let days = (date - first).whole_days() as f64;
            LEFT + PAD + days / span as f64 * (RIGHT - LEFT - 2.0 * PAD)
        }
    };

    let mut out = String::with_capacity(4096 + 256 * cumulative.len());
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" font-size="12" role="img"><title>{title}</title><rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##,
        w = num(WIDTH),
        h = num(HEIGHT),
        title = escape(&chart.title),
    );
    let _ = write!(
        out,
        r#"<text x="12" y="22" font-size="14" font-weight="bold" fill="{TEXT}">{}</text>"#,
        escape(&truncate(&chart.title, WIDTH - 24.0, 14.0)),
    );

    // Horizontal grid with the hours on the left.
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let ty = BOTTOM - tick / top * (BOTTOM - TOP);
        let _ = write!(
            out,
            r#"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{GRID}" stroke-width="1"/><text x="{tx}" y="{ly}" font-size="11" text-anchor="end" fill="{MUTED}">{}</text>"#,
            num(tick),
            l = num(LEFT),
            r = num(RIGHT),
            y = num(ty),
            tx = num(LEFT - 6.0),
            ly = num(ty + 4.0),
        );
        tick += step;
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="11" fill="{MUTED}">{}</text>"#,
        num(LEFT - 44.0),
        num(TOP - 10.0),
        escape(w.hours),
    );
    let _ = write!(
        out,
        r#"<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="{AXIS}" stroke-width="1"/><line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="{AXIS}" stroke-width="1"/>"#,
        l = num(LEFT),
        r = num(RIGHT),
        t = num(TOP),
        b = num(BOTTOM),
    );

    // Week ticks: at most about ten labels.
    let every = cumulative.len().div_ceil(10).max(1);
    for (i, (date, _, _)) in cumulative.iter().enumerate() {
        let tx = x(*date);
        let _ = write!(
            out,
            r#"<line x1="{x}" y1="{b}" x2="{x}" y2="{b2}" stroke="{AXIS}" stroke-width="1"/>"#,
            x = num(tx),
            b = num(BOTTOM),
            b2 = num(BOTTOM + 4.0),
        );
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{MUTED}">{}</text>"#,
                num(tx),
                num(BOTTOM + 17.0),
                short_date(*date),
            );
        }
    }

    // The plan and the cap, across the whole plot.
    let _ = write!(
        out,
        r#"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{PLAN}" stroke-width="1.5"><title>{}</title></line>"#,
        escape(&format!("{} {}", w.plan, chart.plan)),
        l = num(LEFT),
        r = num(RIGHT),
        y = num(y(chart.plan)),
    );
    if let Some(cap) = chart.cap_hours {
        let _ = write!(
            out,
            r#"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{CAP}" stroke-width="1.5" stroke-dasharray="6 4"><title>{}</title></line>"#,
            escape(&format!("{} {}", w.cap, cap)),
            l = num(LEFT),
            r = num(RIGHT),
            y = num(y(cap)),
        );
    }

    // The forecast at completion, at the right edge; dotted from the last
    // actual point when there is one.
    if let Some(forecast) = chart.forecast {
        let fy = y(forecast);
        if let Some((date, _, sum)) = cumulative.last() {
            let _ = write!(
                out,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{FORECAST}" stroke-width="1.2" stroke-dasharray="2 3"/>"#,
                num(x(*date)),
                num(y(*sum)),
                num(RIGHT),
                num(fy),
            );
        }
        let _ = write!(
            out,
            r#"<g><title>{}</title><path d="M{x} {t}L{r} {y}L{x} {b}L{l} {y}Z" fill="{FORECAST}"/><text x="{tx}" y="{ty}" font-size="11" fill="{FORECAST}">{}</text></g>"#,
            escape(&format!("{} {}", w.forecast, forecast)),
            forecast,
            x = num(RIGHT),
            l = num(RIGHT - 6.0),
            r = num(RIGHT + 6.0),
            t = num(fy - 6.0),
            b = num(fy + 6.0),
            y = num(fy),
            tx = num(RIGHT + 10.0),
            ty = num(fy + 4.0),
        );
    }

    if cumulative.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="13" text-anchor="middle" fill="#8a8a8a">{}</text>"##,
            num((LEFT + RIGHT) / 2.0),
            num((TOP + BOTTOM) / 2.0),
            escape(w.empty),
        );
    } else {
        // Cumulative actual: one point per week.
        let points: Vec<String> = cumulative
            .iter()
            .map(|(date, _, sum)| format!("{},{}", num(x(*date)), num(y(*sum))))
            .collect();
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{ACTUAL}" stroke-width="2" stroke-linejoin="round"/>"#,
            points.join(" "),
        );
        for (date, hours, sum) in &cumulative {
            let tip = if english(language) {
                format!("week of {date}: {hours} h (cumulative {sum} h)")
            } else {
                format!("{date}の週 {hours}時間（累計 {sum}時間）")
            };
            let _ = write!(
                out,
                r##"<circle cx="{}" cy="{}" r="3.5" fill="{ACTUAL}" stroke="#ffffff" stroke-width="1"><title>{}</title></circle>"##,
                num(x(*date)),
                num(y(*sum)),
                escape(&tip),
            );
        }
        if let Some((date, _, sum)) = cumulative.last() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{ACTUAL}">{}</text>"#,
                num(x(*date) - 4.0),
                num(y(*sum) - 8.0),
                sum,
            );
        }
    }

    legend(&mut out, chart, &w, cumulative.last().map(|c| c.2));
    out.push_str("</svg>");
    out
}

/// The legend along the bottom: a sample of each line and its label with
/// its value, left to right.
fn legend(out: &mut String, chart: &BurnUp, w: &Words, actual: Option<Hours>) {
    let ly = HEIGHT - 22.0;
    let mut items: Vec<(Sample, String)> = vec![
        (
            Sample::Line(ACTUAL, ""),
            match actual {
                Some(sum) => format!("{} {sum}", w.actual),
                None => w.actual.to_owned(),
            },
        ),
        (Sample::Line(PLAN, ""), format!("{} {}", w.plan, chart.plan)),
    ];
    if let Some(cap) = chart.cap_hours {
        items.push((Sample::Line(CAP, "6 4"), format!("{} {cap}", w.cap)));
    }
    if let Some(forecast) = chart.forecast {
        items.push((Sample::Diamond, format!("{} {forecast}", w.forecast)));
    }
    // From the left edge, not the plot's: four English items need the room.
    let mut lx = 16.0;
    for (sample, label) in items {
        match sample {
            Sample::Line(colour, dash) => {
                let dash = if dash.is_empty() {
                    String::new()
                } else {
                    format!(r#" stroke-dasharray="{dash}""#)
                };
                let _ = write!(
                    out,
                    r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/>"#,
                    num(lx),
                    num(lx + 24.0),
                    y = num(ly),
                );
            }
            Sample::Diamond => {
                let _ = write!(
                    out,
                    r#"<path d="M{c} {t}L{r} {y}L{c} {b}L{l} {y}Z" fill="{FORECAST}"/>"#,
                    c = num(lx + 12.0),
                    l = num(lx + 6.0),
                    r = num(lx + 18.0),
                    t = num(ly - 6.0),
                    b = num(ly + 6.0),
                    y = num(ly),
                );
            }
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" fill="{TEXT}">{}</text>"#,
            num(lx + 30.0),
            num(ly + 4.0),
            escape(&label),
        );
        lx += 30.0 + text_width(&label, 12.0) + 18.0;
    }
}

/// What a legend item shows before its label.
enum Sample {
    /// A line in a colour, dashed by the pattern when there is one.
    Line(&'static str, &'static str),
    /// The forecast's marker.
    Diamond,
}
