//! A scene as a standalone SVG document: presentation attributes only (no
//! `style`), so it can also sit inline in a page under a strict
//! Content-Security-Policy, like the timeline.

use std::fmt::Write as _;

use super::{Anchor, Mark, Pen, Rgb, Scene};
use crate::svg::{FONT, escape, num};

pub(super) fn render(scene: &Scene) -> String {
    let mut out = String::with_capacity(2048 + 400 * scene.marks.len());
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" font-size="12" role="img" aria-label="{title}" xml:lang="{lang}"><title>{title}</title>"#,
        w = num(scene.width),
        h = num(scene.height),
        title = escape(&scene.title),
        lang = scene.language,
    );
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        num(scene.width),
        num(scene.height)
    );
    for mark in &scene.marks {
        match mark {
            Mark::Rect {
                x,
                y,
                w,
                h,
                radius,
                fill,
                pen,
                tooltip,
            } => {
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}""#,
                    num(*x),
                    num(*y),
                    num(*w),
                    num(*h)
                );
                if *radius > 0.0 {
                    let _ = write!(out, r#" rx="{}""#, num(*radius));
                }
                let _ = write!(
                    out,
                    r#" fill="{}""#,
                    fill.map_or_else(|| "none".to_owned(), colour)
                );
                match pen {
                    Some(pen) => stroke(&mut out, pen),
                    None => out.push_str(r#" stroke="none""#),
                }
                if tooltip.is_empty() {
                    out.push_str("/>");
                } else {
                    let _ = write!(out, "><title>{}</title></rect>", escape(tooltip));
                }
            }
            Mark::Line { points, pen } => {
                let points: Vec<String> = points
                    .iter()
                    .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
                    .collect();
                let _ = write!(
                    out,
                    r#"<polyline points="{}" fill="none""#,
                    points.join(" ")
                );
                stroke(&mut out, pen);
                out.push_str("/>");
            }
            Mark::Text {
                x,
                baseline,
                size,
                bold,
                colour: fill,
                anchor,
                text,
                ..
            } => {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" font-size="{}" fill="{}""#,
                    num(*x),
                    num(*baseline),
                    num(*size),
                    colour(*fill)
                );
                if *bold {
                    out.push_str(r#" font-weight="bold""#);
                }
                match anchor {
                    Anchor::Start => {}
                    Anchor::Middle => out.push_str(r#" text-anchor="middle""#),
                    Anchor::End => out.push_str(r#" text-anchor="end""#),
                }
                let _ = write!(out, ">{}</text>", escape(text));
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn stroke(out: &mut String, pen: &Pen) {
    let _ = write!(
        out,
        r#" stroke="{}" stroke-width="{}""#,
        colour(pen.colour),
        num(pen.width)
    );
    if let Some((on, off)) = pen.dash {
        let _ = write!(out, r#" stroke-dasharray="{} {}""#, num(on), num(off));
    }
}

/// `#rrggbb`.
pub(super) fn colour((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}
