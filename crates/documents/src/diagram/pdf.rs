//! A scene on one landscape PDF page: A4 when the diagram fits at a
//! readable size, a larger landscape page when it does not. Drawn with the
//! crate's PDF machinery and embedded Japanese font.

use super::{Mark, Pen, Scene};
use crate::DocumentError;
use crate::pdf::{Ink, drawing_pdf};

const A4_LONG: f64 = 841.89;
const A4_SHORT: f64 = 595.28;
const MARGIN: f64 = 24.0;
/// Smaller than this, 10 px text would print under 4.5 pt: the page grows
/// instead.
const MIN_SCALE: f64 = 0.45;
/// The largest page PDF readers accept (200 inches).
const MAX_SIDE: f64 = 14_400.0;

/// Page size and the scale of the scene on it.
#[cfg(test)]
pub(super) fn page(scene: &Scene) -> (f64, f64, f64) {
    page_below(scene, 0.0)
}

/// Page size and scale with a band `reserve` points high kept free above
/// the diagram (for a report's header and heading).
fn page_below(scene: &Scene, reserve: f64) -> (f64, f64, f64) {
    let (w, h) = (scene.width.max(1.0), scene.height.max(1.0));
    let fit = ((A4_LONG - 2.0 * MARGIN) / w)
        .min((A4_SHORT - 2.0 * MARGIN - reserve) / h)
        .min(1.0);
    if fit >= MIN_SCALE {
        return (A4_LONG, A4_SHORT, fit);
    }
    let scale = MIN_SCALE
        .min((MAX_SIDE - 2.0 * MARGIN) / w)
        .min((MAX_SIDE - 2.0 * MARGIN - reserve) / h);
    let page_w = (w * scale + 2.0 * MARGIN).max(A4_LONG);
    let page_h = (h * scale + 2.0 * MARGIN + reserve).max(A4_SHORT);
    // Landscape, whatever the diagram's shape.
    (page_w.max(page_h), page_h, scale)
}

pub(super) fn render(scene: &Scene) -> Result<Vec<u8>, DocumentError> {
    let (page_w, page_h, inks) = inks(scene, 0.0);
    drawing_pdf(&scene.title, scene.language, page_w, page_h, &inks)
}

/// The page's width and height and the scene drawn on it, below a free
/// band `reserve` points high.
pub(super) fn inks(scene: &Scene, reserve: f64) -> (f32, f32, Vec<Ink>) {
    let (page_w, page_h, scale) = page_below(scene, reserve);
    let ox = (page_w - scene.width * scale) / 2.0;
    let oy = reserve + (page_h - reserve - scene.height * scale) / 2.0;
    let x = |v: f64| (ox + v * scale) as f32;
    let y = |v: f64| (oy + v * scale) as f32;
    let s = |v: f64| (v * scale) as f32;
    let pen = |p: &Pen| crate::pdf::Pen {
        color: p.colour,
        width: s(p.width).max(0.3),
        dash: p.dash.map(|(on, off)| (s(on), s(off))),
    };
    let inks: Vec<Ink> = scene
        .marks
        .iter()
        .map(|mark| match mark {
            Mark::Rect {
                x: rx,
                y: ry,
                w,
                h,
                radius,
                fill,
                pen: outline,
                ..
            } => Ink::Rect {
                x: x(*rx),
                y: y(*ry),
                w: s(*w),
                h: s(*h),
                radius: s(*radius),
                fill: *fill,
                pen: outline.as_ref().map(pen),
            },
            Mark::Line { points, pen: line } => Ink::Path {
                points: points.iter().map(|(px, py)| (x(*px), y(*py))).collect(),
                pen: pen(line),
            },
            Mark::Text {
                x: tx,
                baseline,
                size,
                bold,
                colour,
                anchor,
                max_width,
                text,
            } => Ink::Text {
                x: x(*tx),
                baseline: y(*baseline),
                size: s(*size),
                bold: *bold,
                color: *colour,
                anchor: *anchor,
                max_width: s(*max_width),
                text: text.clone(),
            },
        })
        .collect();
    (page_w as f32, page_h as f32, inks)
}
