//! Places the boxes of both diagrams. Sizes are in CSS pixels (SVG units);
//! the PDF scales the same scene to its page. Text widths are estimated
//! (ASCII 0.6 em, everything else 1 em) so the layout needs no font.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_domain::ledger::{
    AssetKind, DiagramGroup, DiagramNode, LinkMedium, NetworkView, OrgView,
};

use super::{
    ALWAYS_ON_COLOUR, Anchor, Cell, CellKind, Connector, INK, INTERNET_COLOUR, MUTED, Mark, Pen,
    Rgb, Scene, VENDOR_COLOUR, WARNING, WARNING_FILL, WHITE, Words, count_mark, external_category,
    external_label, external_method, external_pen, external_warned, group_label, group_subtitle,
    group_title, language, node_badges, node_label, node_subtitle, node_system, one_line,
    role_badge, role_email, role_label, role_phone, role_responsibilities, words,
};
use crate::svg::{text_width, truncate};

const MARGIN: f64 = 24.0;
const TITLE_SIZE: f64 = 20.0;
const HEADER: f64 = 44.0;
const LEGEND: f64 = 40.0;

const NODE_W: f64 = 228.0;
const NODE_H: f64 = 78.0;
const NODE_GAP: f64 = 14.0;
const NODE_PAD: f64 = 8.0;
const MAX_GROUP_COLUMNS: usize = 6;

const GROUP_PAD: f64 = 14.0;
const GROUP_HEAD: f64 = 42.0;
const GROUP_GAP: f64 = 24.0;

const EXT_W: f64 = 236.0;
const EXT_H: f64 = 88.0;
const EXT_GAP: f64 = 14.0;
const ZONE_PAD: f64 = 16.0;
const ZONE_HEAD: f64 = 30.0;
/// Between the outside band and the hospital: room for the lines to turn.
const ZONE_GAP: f64 = 40.0;

const BADGE_SIZE: f64 = 9.0;
const BADGE_H: f64 = 14.0;

/// Prefer pages about this much wider than tall.
const ASPECT: f64 = 1.5;

/// A placed rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Bounds {
    fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Where the line from the centre towards `(tx, ty)` leaves the box.
    fn border_towards(&self, tx: f64, ty: f64) -> (f64, f64) {
        let (cx, cy) = self.centre();
        let (dx, dy) = (tx - cx, ty - cy);
        if dx == 0.0 && dy == 0.0 {
            return (cx, cy);
        }
        let sx = if dx == 0.0 {
            f64::INFINITY
        } else {
            self.w / 2.0 / dx.abs()
        };
        let sy = if dy == 0.0 {
            f64::INFINITY
        } else {
            self.h / 2.0 / dy.abs()
        };
        let t = sx.min(sy).min(1.0);
        (cx + dx * t, cy + dy * t)
    }
}

/// Collects the marks of a scene with small helpers.
struct Painter {
    marks: Vec<Mark>,
}

impl Painter {
    #[allow(clippy::too_many_arguments)]
    fn rect(
        &mut self,
        b: Bounds,
        radius: f64,
        fill: Option<Rgb>,
        pen: Option<Pen>,
        tooltip: String,
    ) {
        self.marks.push(Mark::Rect {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            radius,
            fill,
            pen,
            tooltip,
        });
    }

    /// One line of text, shortened to `max_width` (0: not shortened).
    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        x: f64,
        baseline: f64,
        size: f64,
        bold: bool,
        colour: Rgb,
        anchor: Anchor,
        max_width: f64,
        text: &str,
    ) {
        let text = one_line(text);
        if text.is_empty() {
            return;
        }
        let text = if max_width > 0.0 {
            truncate(&text, max_width, size)
        } else {
            text
        };
        self.marks.push(Mark::Text {
            x,
            baseline,
            size,
            bold,
            colour,
            anchor,
            max_width,
            text,
        });
    }

    fn line(&mut self, points: Vec<(f64, f64)>, pen: Pen) {
        self.marks.push(Mark::Line { points, pen });
    }

    /// Small coloured labels in a row from `x`; returns the x after them.
    fn badges(&mut self, x: f64, y: f64, max_right: f64, badges: &[(&str, Rgb)]) -> f64 {
        let mut x = x;
        for (text, colour) in badges {
            let w = text_width(text, BADGE_SIZE) + 8.0;
            let room = max_right - x;
            if room < 24.0 {
                break;
            }
            // Rounding must not cut a badge that was given its own width.
            let w = if w <= room + 0.5 { w } else { room };
            self.rect(
                Bounds {
                    x,
                    y,
                    w,
                    h: BADGE_H,
                },
                3.0,
                Some(*colour),
                None,
                String::new(),
            );
            self.text(
                x + 4.0,
                y + BADGE_H - 3.5,
                BADGE_SIZE,
                false,
                WHITE,
                Anchor::Start,
                w - 7.5,
                text,
            );
            x += w + 4.0;
        }
        x
    }

    /// The diagram's title at the top left.
    fn title(&mut self, title: &str) {
        self.text(
            MARGIN,
            MARGIN + TITLE_SIZE,
            TITLE_SIZE,
            true,
            INK,
            Anchor::Start,
            0.0,
            title,
        );
    }

    /// A legend line at `y`: swatches or badges with their meaning.
    fn legend(&mut self, x: f64, y: f64, entries: &[LegendEntry]) -> f64 {
        let mut x = x;
        for entry in entries {
            match entry {
                LegendEntry::Badge(text, colour, meaning) => {
                    x = self.badges(x, y, f64::INFINITY, &[(text, *colour)]);
                    self.text(
                        x,
                        y + BADGE_H - 3.0,
                        10.0,
                        false,
                        MUTED,
                        Anchor::Start,
                        0.0,
                        meaning,
                    );
                    x += text_width(meaning, 10.0) + 18.0;
                }
                LegendEntry::Swatch(fill, pen, meaning) => {
                    self.rect(
                        Bounds {
                            x,
                            y,
                            w: 22.0,
                            h: BADGE_H,
                        },
                        2.0,
                        Some(*fill),
                        Some(*pen),
                        String::new(),
                    );
                    x += 28.0;
                    self.text(
                        x,
                        y + BADGE_H - 3.0,
                        10.0,
                        false,
                        MUTED,
                        Anchor::Start,
                        0.0,
                        meaning,
                    );
                    x += text_width(meaning, 10.0) + 18.0;
                }
            }
        }
        x
    }
}

enum LegendEntry<'a> {
    Badge(&'a str, Rgb, &'a str),
    Swatch(Rgb, Pen, &'a str),
}

fn legend_width(entries: &[LegendEntry]) -> f64 {
    entries
        .iter()
        .map(|e| match e {
            LegendEntry::Badge(text, _, meaning) => {
                text_width(text, BADGE_SIZE) + 12.0 + text_width(meaning, 10.0) + 18.0
            }
            LegendEntry::Swatch(_, _, meaning) => 28.0 + text_width(meaning, 10.0) + 18.0,
        })
        .sum()
}

/// Fill and outline of a device box by what it is.
fn node_colours(kind: AssetKind) -> (Rgb, Pen) {
    let (fill, stroke) = if kind.is_network_device() {
        ((0xe3, 0xf2, 0xfd), (0x15, 0x65, 0xc0))
    } else {
        match kind {
            AssetKind::Server => ((0xe8, 0xf5, 0xe9), (0x2e, 0x7d, 0x32)),
            AssetKind::MedicalDevice => ((0xff, 0xf8, 0xe1), (0xf9, 0xa8, 0x25)),
            AssetKind::Terminal => ((0xff, 0xff, 0xff), (0x54, 0x6e, 0x7a)),
            _ => ((0xf5, 0xf5, 0xf5), (0x75, 0x75, 0x75)),
        }
    };
    (fill, Pen::solid(stroke, 1.2))
}

fn link_pen(medium: LinkMedium) -> Pen {
    match medium {
        LinkMedium::Wired => Pen::solid((0x45, 0x5a, 0x64), 1.2),
        LinkMedium::Wireless => Pen::dashed((0x02, 0x77, 0xbd), 1.2, (5.0, 3.0)),
        LinkMedium::Vpn => Pen::dashed((0x6a, 0x1b, 0x9a), 1.6, (9.0, 3.0)),
        LinkMedium::Other => Pen::dashed((0x9e, 0x9e, 0x9e), 1.2, (2.0, 2.0)),
    }
}

const GROUP_FILL: Rgb = (0xf7, 0xf9, 0xfc);
const GROUP_PEN: Pen = Pen::solid((0x90, 0xa4, 0xae), 1.2);
const BAND_FILL: Rgb = (0xff, 0xf8, 0xf0);
const BAND_PEN: Pen = Pen::dashed((0xef, 0x6c, 0x00), 1.2, (6.0, 4.0));
const ZONE_PEN: Pen = Pen::solid((0x37, 0x47, 0x4f), 1.6);
const EXTERNAL_FILL: Rgb = (0xff, 0xff, 0xff);
const EXTERNAL_PEN: Pen = Pen::solid((0xef, 0x6c, 0x00), 1.4);
const WARNING_PEN: Pen = Pen::dashed(WARNING, 2.4, (6.0, 3.0));

/// A segment with its devices, sized to them.
struct GroupBox<'a> {
    id: String,
    title: String,
    subtitle: String,
    label: Vec<String>,
    nodes: Vec<&'a DiagramNode>,
    columns: usize,
    w: f64,
    h: f64,
}

fn group_box<'a>(
    id: String,
    title: String,
    subtitle: String,
    label: Vec<String>,
    nodes: Vec<&'a DiagramNode>,
) -> GroupBox<'a> {
    let n = nodes.len();
    let columns = if n == 0 {
        0
    } else {
        let square = (n as f64).sqrt().ceil() as usize;
        square.max(n.min(3)).min(MAX_GROUP_COLUMNS)
    };
    let rows = n.div_ceil(columns.max(1));
    let inner_w = if columns == 0 {
        0.0
    } else {
        columns as f64 * NODE_W + (columns - 1) as f64 * NODE_GAP
    };
    let heading_w = text_width(&title, 14.0).max(text_width(&subtitle, 10.0));
    let w = (inner_w + 2.0 * GROUP_PAD)
        .max(heading_w + 2.0 * GROUP_PAD)
        .max(NODE_W + 2.0 * GROUP_PAD);
    let h = if rows == 0 {
        GROUP_HEAD + 24.0
    } else {
        GROUP_HEAD + rows as f64 * NODE_H + (rows - 1) as f64 * NODE_GAP + GROUP_PAD
    };
    GroupBox {
        id,
        title,
        subtitle,
        label,
        nodes,
        columns,
        w,
        h,
    }
}

/// Boxes packed in rows: the offset of each, the width and the height.
type Packing = (Vec<(f64, f64)>, f64, f64);

/// Rows of boxes no wider than `target` (a box wider than that gets a row
/// of its own).
fn shelves(sizes: &[(f64, f64)], target: f64, gap: f64) -> Packing {
    let mut places = Vec::with_capacity(sizes.len());
    let (mut x, mut y, mut row_h, mut width) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    for &(w, h) in sizes {
        if x > 0.0 && x + w > target + 0.01 {
            y += row_h + gap;
            x = 0.0;
            row_h = 0.0;
        }
        places.push((x, y));
        width = width.max(x + w);
        row_h = row_h.max(h);
        x += w + gap;
    }
    (places, width, y + row_h)
}

/// The row width that makes the whole diagram closest to a landscape page;
/// `whole` turns the groups' size into the diagram's.
pub(super) fn best_shelves(
    sizes: &[(f64, f64)],
    gap: f64,
    whole: impl Fn(f64, f64) -> (f64, f64),
) -> Packing {
    let widest = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
    let mut candidates: Vec<f64> = vec![widest];
    let mut run = 0.0;
    for &(w, _) in sizes {
        run += w;
        if run >= widest {
            candidates.push(run);
        }
        run += gap;
    }
    let mut best: Option<(f64, Packing)> = None;
    for target in candidates {
        let packed = shelves(sizes, target, gap);
        let (w, h) = (packed.1.max(1.0), packed.2.max(1.0));
        let (whole_w, whole_h) = whole(w, h);
        // Distance from the wanted shape, and a little for wasted room.
        let used: f64 = sizes.iter().map(|s| s.0 * s.1).sum();
        let score = ((whole_w / whole_h.max(1.0)).ln() - ASPECT.ln()).abs()
            + 0.5 * (1.0 - used / (w * h)).max(0.0);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, packed));
        }
    }
    best.map_or((Vec::new(), 0.0, 0.0), |(_, p)| p)
}

/// How many external boxes fit side by side in the band.
fn externals_per_row(content_w: f64) -> usize {
    (((content_w - 2.0 * ZONE_PAD + EXT_GAP) / (EXT_W + EXT_GAP)).floor() as usize).max(1)
}

/// Where along the line from `a` to `b` a label sits clear of every box
/// (the middle if nowhere is).
fn label_spot(a: (f64, f64), b: (f64, f64), boxes: &[Bounds]) -> (f64, f64) {
    let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let clear = |(x, y): (f64, f64)| {
        !boxes
            .iter()
            .any(|r| x > r.x - 30.0 && x < r.x + r.w + 30.0 && y > r.y - 8.0 && y < r.y + r.h + 8.0)
    };
    [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]
        .into_iter()
        .map(at)
        .find(|p| clear(*p))
        .unwrap_or_else(|| at(0.5))
}

/// The network overview, placed.
pub(super) fn network(view: &NetworkView, lang: &str) -> Scene {
    let w: &Words = words(lang);
    let mut paint = Painter { marks: Vec::new() };
    let mut cells: Vec<Cell> = Vec::new();
    let mut connectors: Vec<Connector> = Vec::new();

    // Groups in the view's order; devices of a group the view does not
    // list get a group of their own, last.
    let mut by_group: BTreeMap<&str, Vec<&DiagramNode>> = BTreeMap::new();
    for node in &view.nodes {
        by_group.entry(node.group.as_str()).or_default().push(node);
    }
    let mut groups: Vec<GroupBox> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for g in &view.groups {
        if !seen.insert(g.id.as_str()) {
            continue;
        }
        let nodes = by_group.remove(g.id.as_str()).unwrap_or_default();
        groups.push(group_box(
            g.id.clone(),
            group_title(g, lang),
            group_subtitle(g, lang),
            group_label(g, lang),
            nodes,
        ));
    }
    for (id, nodes) in by_group {
        let stray = DiagramGroup {
            id: id.to_owned(),
            title: String::new(),
            kind: None,
            address_range: String::new(),
        };
        groups.push(group_box(
            id.to_owned(),
            group_title(&stray, lang),
            String::new(),
            group_label(&stray, lang),
            nodes,
        ));
    }

    let legend = [
        LegendEntry::Badge(w.vendor_badge, VENDOR_COLOUR, w.vendor_legend),
        LegendEntry::Badge(w.always_on_badge, ALWAYS_ON_COLOUR, w.always_on_legend),
        LegendEntry::Badge(w.internet_badge, INTERNET_COLOUR, w.internet_legend),
        LegendEntry::Swatch(WARNING_FILL, WARNING_PEN, w.warning_legend),
    ];
    let least_w = (EXT_W + 2.0 * ZONE_PAD)
        .max(legend_width(&legend))
        .max(text_width(w.network_title, TITLE_SIZE))
        .max(640.0);
    let content_width = |groups_w: f64| (groups_w + 2.0 * ZONE_PAD).max(least_w);
    let band_height = |content_w: f64| {
        let rows = view.externals.len().div_ceil(externals_per_row(content_w));
        if rows == 0 {
            ZONE_HEAD + 28.0
        } else {
            ZONE_HEAD + rows as f64 * (EXT_H + EXT_GAP) - EXT_GAP + ZONE_PAD
        }
    };
    let whole = |groups_w: f64, groups_h: f64| {
        let content_w = content_width(groups_w);
        (
            content_w + 2.0 * MARGIN,
            MARGIN
                + HEADER
                + band_height(content_w)
                + ZONE_GAP
                + ZONE_HEAD
                + groups_h
                + ZONE_PAD
                + 16.0
                + LEGEND
                + MARGIN,
        )
    };
    let sizes: Vec<(f64, f64)> = groups.iter().map(|g| (g.w, g.h)).collect();
    let (places, groups_w, groups_h) = best_shelves(&sizes, GROUP_GAP, whole);
    let groups_h = if groups.is_empty() { 24.0 } else { groups_h };
    let content_w = content_width(groups_w);

    // Where each device box is, relative to the hospital's groups.
    let zone_x = MARGIN;
    let groups_x = zone_x + ZONE_PAD + (content_w - 2.0 * ZONE_PAD - groups_w).max(0.0) / 2.0;
    let mut node_x: HashMap<&str, f64> = HashMap::new();
    for (g, (gx, _)) in groups.iter().zip(&places) {
        for (i, node) in g.nodes.iter().enumerate() {
            let column = i % g.columns.max(1);
            let x = groups_x + gx + GROUP_PAD + column as f64 * (NODE_W + NODE_GAP);
            node_x.entry(node.id.as_str()).or_insert(x + NODE_W / 2.0);
        }
    }

    // The outside band: externals in rows, ordered by where their boundary
    // device is so their lines cross less.
    let mut externals: Vec<&_> = view.externals.iter().collect();
    externals.sort_by(|a, b| {
        let x = |e: &&mamori_domain::ledger::DiagramExternal| {
            e.via
                .as_deref()
                .and_then(|v| node_x.get(v))
                .copied()
                .unwrap_or(f64::INFINITY)
        };
        x(a).total_cmp(&x(b))
    });
    let per_row = externals_per_row(content_w);
    let band = Bounds {
        x: MARGIN,
        y: MARGIN + HEADER,
        w: content_w,
        h: band_height(content_w),
    };
    let zone = Bounds {
        x: zone_x,
        y: band.y + band.h + ZONE_GAP,
        w: content_w,
        h: ZONE_HEAD + groups_h + ZONE_PAD,
    };
    let groups_y = zone.y + ZONE_HEAD;
    let width = content_w + 2.0 * MARGIN;
    let height = zone.y + zone.h + 16.0 + LEGEND + MARGIN;

    paint.title(w.network_title);
    // Outside band.
    paint.rect(band, 6.0, Some(BAND_FILL), Some(BAND_PEN), String::new());
    paint.text(
        band.x + 10.0,
        band.y + 20.0,
        13.0,
        true,
        (0xbf, 0x36, 0x0c),
        Anchor::Start,
        band.w - 20.0,
        w.outside,
    );
    if externals.is_empty() {
        paint.text(
            band.x + 10.0,
            band.y + ZONE_HEAD + 14.0,
            11.0,
            false,
            MUTED,
            Anchor::Start,
            band.w - 20.0,
            w.no_external,
        );
    }
    // Hospital.
    paint.rect(zone, 8.0, None, Some(ZONE_PEN), String::new());
    paint.text(
        zone.x + 10.0,
        zone.y + 20.0,
        13.0,
        true,
        (0x37, 0x47, 0x4f),
        Anchor::Start,
        zone.w - 20.0,
        w.inside,
    );
    if groups.is_empty() {
        paint.text(
            zone.x + 10.0,
            groups_y + 14.0,
            11.0,
            false,
            MUTED,
            Anchor::Start,
            zone.w - 20.0,
            w.no_assets,
        );
    }

    // Groups and where their devices go.
    let mut node_bounds: HashMap<&str, Bounds> = HashMap::new();
    let mut node_order: Vec<(&DiagramNode, Bounds, &str)> = Vec::new();
    for (g, (gx, gy)) in groups.iter().zip(&places) {
        let b = Bounds {
            x: groups_x + gx,
            y: groups_y + gy,
            w: g.w,
            h: g.h,
        };
        paint.rect(
            b,
            6.0,
            Some(GROUP_FILL),
            Some(GROUP_PEN),
            g.label.join("\n"),
        );
        paint.text(
            b.x + GROUP_PAD,
            b.y + 20.0,
            14.0,
            true,
            INK,
            Anchor::Start,
            b.w - 2.0 * GROUP_PAD,
            &g.title,
        );
        paint.text(
            b.x + GROUP_PAD,
            b.y + 35.0,
            10.0,
            false,
            MUTED,
            Anchor::Start,
            b.w - 2.0 * GROUP_PAD,
            &g.subtitle,
        );
        cells.push(Cell {
            id: g.id.clone(),
            parent: None,
            kind: CellKind::Group,
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            label: g.label.clone(),
            fill: GROUP_FILL,
            pen: GROUP_PEN,
        });
        for (i, node) in g.nodes.iter().enumerate() {
            let columns = g.columns.max(1);
            let nb = Bounds {
                x: b.x + GROUP_PAD + (i % columns) as f64 * (NODE_W + NODE_GAP),
                y: b.y + GROUP_HEAD + (i / columns) as f64 * (NODE_H + NODE_GAP),
                w: NODE_W,
                h: NODE_H,
            };
            node_bounds.entry(node.id.as_str()).or_insert(nb);
            node_order.push((node, nb, g.id.as_str()));
        }
    }

    // External boxes' places.
    let mut external_bounds = Vec::with_capacity(externals.len());
    for (i, _) in externals.iter().enumerate() {
        let row = i / per_row;
        let in_row = (externals.len() - row * per_row).min(per_row);
        let row_w = in_row as f64 * (EXT_W + EXT_GAP) - EXT_GAP;
        let left = band.x + (band.w - row_w) / 2.0;
        external_bounds.push(Bounds {
            x: left + (i % per_row) as f64 * (EXT_W + EXT_GAP),
            y: band.y + ZONE_HEAD + row as f64 * (EXT_H + EXT_GAP),
            w: EXT_W,
            h: EXT_H,
        });
    }

    // Lines under the boxes: links, then external connections.
    let mut labels = Vec::new();
    for (i, edge) in view.edges.iter().enumerate() {
        let (Some(a), Some(b)) = (
            node_bounds.get(edge.from.as_str()),
            node_bounds.get(edge.to.as_str()),
        ) else {
            continue;
        };
        let (bx, by) = b.centre();
        let (ax, ay) = a.centre();
        let start = a.border_towards(bx, by);
        let end = b.border_towards(ax, ay);
        let pen = link_pen(edge.medium);
        paint.line(vec![start, end], pen);
        let label = one_line(&edge.label);
        if !label.is_empty() {
            labels.push((start, end, label.clone()));
        }
        connectors.push(Connector {
            id: format!("l:{i}"),
            source: edge.from.clone(),
            target: edge.to.clone(),
            label,
            pen,
            orthogonal: false,
        });
    }
    for (external, eb) in externals.iter().zip(&external_bounds) {
        let Some(target) = external
            .via
            .as_deref()
            .and_then(|v| node_bounds.get(v).map(|b| (v, b)))
        else {
            continue;
        };
        let (via, nb) = target;
        let start = (eb.x + eb.w / 2.0, eb.y + eb.h);
        let (sx, sy) = start;
        let end = nb.border_towards(sx, sy);
        let pen = external_pen(external);
        paint.line(vec![start, end], pen);
        connectors.push(Connector {
            id: format!("v:{}", external.id),
            source: external.id.clone(),
            target: via.to_owned(),
            label: String::new(),
            pen,
            orthogonal: false,
        });
    }
    // Device boxes.
    for &(node, b, group) in &node_order {
        let (fill, pen) = node_colours(node.kind);
        let label = node_label(node, lang);
        paint.rect(b, 4.0, Some(fill), Some(pen), label.join("\n"));
        let inner = b.w - 2.0 * NODE_PAD;
        let count = count_mark(node);
        let count_w = count.as_ref().map_or(0.0, |c| text_width(c, 12.0) + 6.0);
        paint.text(
            b.x + NODE_PAD,
            b.y + 17.0,
            12.0,
            true,
            INK,
            Anchor::Start,
            inner - count_w,
            &node.title,
        );
        if let Some(count) = &count {
            paint.text(
                b.x + b.w - NODE_PAD,
                b.y + 17.0,
                12.0,
                true,
                (0x15, 0x65, 0xc0),
                Anchor::End,
                0.0,
                count,
            );
        }
        let system = node_system(node, lang);
        let subtitle = node_subtitle(node, lang);
        // Kind and product on two lines when they need it and there is room.
        let (second, third) = if system.is_empty() && text_width(&subtitle, 10.0) > inner {
            (node.kind.label(lang).to_owned(), one_line(&node.detail))
        } else {
            (subtitle, system)
        };
        for (y, text) in [(33.0, second), (48.0, third)] {
            paint.text(
                b.x + NODE_PAD,
                b.y + y,
                10.0,
                false,
                MUTED,
                Anchor::Start,
                inner,
                &text,
            );
        }
        paint.badges(
            b.x + NODE_PAD,
            b.y + b.h - BADGE_H - 7.0,
            b.x + b.w - NODE_PAD,
            &node_badges(node, lang),
        );
        cells.push(Cell {
            id: node.id.clone(),
            parent: Some(group.to_owned()),
            kind: CellKind::Node,
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            label,
            fill,
            pen,
        });
    }

    // Link labels over everything they might run under.
    let all_boxes: Vec<Bounds> = node_order.iter().map(|(_, b, _)| *b).collect();
    for (start, end, label) in labels {
        let (x, y) = label_spot(start, end, &all_boxes);
        let lw = text_width(&label, 9.0).min(160.0) + 6.0;
        paint.rect(
            Bounds {
                x: x - lw / 2.0,
                y: y - 7.0,
                w: lw,
                h: 13.0,
            },
            2.0,
            Some(WHITE),
            None,
            label.clone(),
        );
        paint.text(x, y + 3.5, 9.0, false, MUTED, Anchor::Middle, 160.0, &label);
    }

    // External boxes.
    for (external, b) in externals.iter().zip(&external_bounds) {
        let warned = external_warned(external);
        let (fill, pen) = if warned {
            (WARNING_FILL, WARNING_PEN)
        } else {
            (EXTERNAL_FILL, EXTERNAL_PEN)
        };
        let label = external_label(external, lang);
        paint.rect(*b, 4.0, Some(fill), Some(pen), label.join("\n"));
        let inner = b.w - 2.0 * NODE_PAD;
        let x = b.x + NODE_PAD;
        paint.text(
            x,
            b.y + 15.0,
            10.0,
            false,
            (0xbf, 0x36, 0x0c),
            Anchor::Start,
            inner,
            &external_category(external, lang),
        );
        paint.text(
            x,
            b.y + 32.0,
            12.0,
            true,
            INK,
            Anchor::Start,
            inner,
            &external.counterpart,
        );
        paint.text(
            x,
            b.y + 47.0,
            10.0,
            false,
            MUTED,
            Anchor::Start,
            inner,
            &external_method(external, lang),
        );
        paint.text(
            x,
            b.y + 62.0,
            10.0,
            false,
            MUTED,
            Anchor::Start,
            inner,
            external.availability.label(lang),
        );
        if warned {
            paint.text(
                x,
                b.y + 78.0,
                10.0,
                true,
                WARNING,
                Anchor::Start,
                inner,
                w.unknown_to_administrator,
            );
        }
        cells.push(Cell {
            id: external.id.clone(),
            parent: None,
            kind: CellKind::External,
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            label,
            fill,
            pen,
        });
    }

    paint.legend(MARGIN, zone.y + zone.h + 16.0, &legend);

    Scene {
        width,
        height,
        title: w.network_title.to_owned(),
        language: language(lang),
        marks: paint.marks,
        cells,
        connectors,
    }
}

// The management structure --------------------------------------------------

const ROLE_W: f64 = 232.0;
const ROLE_H: f64 = 118.0;
const ROLE_GAP: f64 = 20.0;
const LEVEL_GAP: f64 = 44.0;
const CHAIN_W: f64 = 340.0;
const CHAIN_GAP: f64 = 40.0;
const CHAIN_ENTRY: f64 = 36.0;

const HOSPITAL_FILL: Rgb = (0xff, 0xff, 0xff);
const HOSPITAL_PEN: Pen = Pen::solid((0x37, 0x47, 0x4f), 1.4);
const EXECUTIVE_FILL: Rgb = (0xe8, 0xea, 0xf6);
const VENDOR_FILL: Rgb = (0xff, 0xf3, 0xe0);
const VENDOR_PEN: Pen = Pen::dashed((0xe6, 0x51, 0x00), 1.4, (6.0, 3.0));
const EXTERNAL_BODY_FILL: Rgb = (0xf3, 0xe5, 0xf5);
const EXTERNAL_BODY_PEN: Pen = Pen::dashed((0x6a, 0x1b, 0x9a), 1.4, (6.0, 3.0));
const CHAIN_FILL: Rgb = (0xff, 0xeb, 0xee);
const CHAIN_PEN: Pen = Pen::solid(WARNING, 1.4);
const REPORTING_PEN: Pen = Pen::solid((0x45, 0x5a, 0x64), 1.2);

fn role_colours(node: &mamori_domain::ledger::OrgNode) -> (Rgb, Pen) {
    use mamori_domain::ledger::StructureRoleKind as K;
    match node.kind {
        K::Vendor => (VENDOR_FILL, VENDOR_PEN),
        K::External => (EXTERNAL_BODY_FILL, EXTERNAL_BODY_PEN),
        _ if node.outside => (EXTERNAL_BODY_FILL, EXTERNAL_BODY_PEN),
        K::Executive => (EXECUTIVE_FILL, HOSPITAL_PEN),
        _ => (HOSPITAL_FILL, HOSPITAL_PEN),
    }
}

/// A role and the subordinates drawn under it.
struct Tree {
    node: usize,
    children: Vec<Tree>,
    width: f64,
    depth: usize,
}

fn grow(index: usize, children: &HashMap<usize, Vec<usize>>, placed: &mut BTreeSet<usize>) -> Tree {
    placed.insert(index);
    let mut kids = Vec::new();
    for &child in children.get(&index).map_or(&[][..], Vec::as_slice) {
        if placed.contains(&child) {
            continue;
        }
        kids.push(grow(child, children, placed));
    }
    let kids_w: f64 =
        kids.iter().map(|k| k.width).sum::<f64>() + ROLE_GAP * kids.len().saturating_sub(1) as f64;
    let depth = kids.iter().map(|k| k.depth + 1).max().unwrap_or(0);
    Tree {
        node: index,
        width: kids_w.max(ROLE_W),
        children: kids,
        depth,
    }
}

/// Places `tree` with its left edge at `left`; returns where its role went.
fn place(
    tree: &Tree,
    left: f64,
    top: f64,
    level: usize,
    out: &mut Vec<(usize, Bounds, Option<usize>)>,
    parent: Option<usize>,
) {
    let b = Bounds {
        x: left + (tree.width - ROLE_W) / 2.0,
        y: top + level as f64 * (ROLE_H + LEVEL_GAP),
        w: ROLE_W,
        h: ROLE_H,
    };
    out.push((tree.node, b, parent));
    let kids_w: f64 = tree.children.iter().map(|k| k.width).sum::<f64>()
        + ROLE_GAP * tree.children.len().saturating_sub(1) as f64;
    let mut x = left + (tree.width - kids_w) / 2.0;
    for kid in &tree.children {
        place(kid, x, top, level + 1, out, Some(tree.node));
        x += kid.width + ROLE_GAP;
    }
}

/// The management structure chart, placed.
pub(super) fn org(view: &OrgView, lang: &str) -> Scene {
    let w: &Words = words(lang);
    let mut paint = Painter { marks: Vec::new() };
    let mut cells: Vec<Cell> = Vec::new();
    let mut connectors: Vec<Connector> = Vec::new();

    let index: HashMap<&str, usize> = view
        .nodes
        .iter()
        .enumerate()
        .rev()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    // Reporting lines between roles that exist, each subordinate once.
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut has_superior: BTreeSet<usize> = BTreeSet::new();
    let mut lines: Vec<(usize, usize)> = Vec::new();
    for edge in &view.edges {
        let (Some(&up), Some(&down)) = (
            index.get(edge.superior.as_str()),
            index.get(edge.subordinate.as_str()),
        ) else {
            continue;
        };
        if up == down || !has_superior.insert(down) {
            continue;
        }
        children.entry(up).or_default().push(down);
        lines.push((up, down));
    }
    // Roots first, then whatever a circle left unreached.
    let mut placed = BTreeSet::new();
    let mut forest = Vec::new();
    let starts = (0..view.nodes.len())
        .filter(|i| !has_superior.contains(i) && index.get(view.nodes[*i].id.as_str()) == Some(i))
        .chain(0..view.nodes.len())
        .collect::<Vec<_>>();
    for i in starts {
        if placed.contains(&i) || index.get(view.nodes[i].id.as_str()) != Some(&i) {
            continue;
        }
        forest.push(grow(i, &children, &mut placed));
    }

    let top = MARGIN + HEADER;
    let mut boxes = Vec::new();
    let mut x = MARGIN;
    for tree in &forest {
        place(tree, x, top, 0, &mut boxes, None);
        x += tree.width + ROLE_GAP;
    }
    let tree_w = (x - ROLE_GAP - MARGIN).max(0.0);
    let levels = forest.iter().map(|t| t.depth + 1).max().unwrap_or(0);
    let tree_h = if levels == 0 {
        24.0
    } else {
        levels as f64 * (ROLE_H + LEVEL_GAP) - LEVEL_GAP
    };

    // The contact chain beside the tree.
    let chain: Vec<(u32, &mamori_domain::ledger::OrgNode)> = view
        .incident_chain
        .iter()
        .filter_map(|id| index.get(id.as_str()).map(|&i| &view.nodes[i]))
        .enumerate()
        .map(|(i, n)| (n.incident_order.unwrap_or(i as u32 + 1), n))
        .collect();
    let chain_box = Bounds {
        x: MARGIN + tree_w + if tree_w > 0.0 { CHAIN_GAP } else { 0.0 },
        y: top,
        w: CHAIN_W,
        h: 34.0 + chain.len().max(1) as f64 * CHAIN_ENTRY + 4.0,
    };

    let legend = [
        LegendEntry::Swatch(HOSPITAL_FILL, HOSPITAL_PEN, w.hospital_role),
        LegendEntry::Swatch(VENDOR_FILL, VENDOR_PEN, w.vendor_role),
        LegendEntry::Swatch(EXTERNAL_BODY_FILL, EXTERNAL_BODY_PEN, w.external_role),
        LegendEntry::Badge(w.incident_badge, WARNING, w.chain_title),
    ];
    let body_h = tree_h.max(chain_box.h);
    let width = (chain_box.x + chain_box.w + MARGIN)
        .max(legend_width(&legend) + 2.0 * MARGIN)
        .max(text_width(w.org_title, TITLE_SIZE) + 2.0 * MARGIN);
    let height = top + body_h + 20.0 + LEGEND + MARGIN;

    paint.title(w.org_title);
    if view.nodes.is_empty() {
        paint.text(
            MARGIN,
            top + 14.0,
            11.0,
            false,
            MUTED,
            Anchor::Start,
            0.0,
            w.no_roles,
        );
    }

    // Reporting lines first, with a bend halfway between the levels.
    let places: HashMap<usize, Bounds> = boxes.iter().map(|(i, b, _)| (*i, *b)).collect();
    for (up, down) in &lines {
        let (Some(a), Some(b)) = (places.get(up), places.get(down)) else {
            continue;
        };
        let ax = a.x + a.w / 2.0;
        let bx = b.x + b.w / 2.0;
        let mid = a.y + a.h + LEVEL_GAP / 2.0;
        let points = if b.y > a.y {
            vec![(ax, a.y + a.h), (ax, mid), (bx, mid), (bx, b.y)]
        } else {
            vec![(ax, a.y + a.h / 2.0), (bx, b.y + b.h / 2.0)]
        };
        paint.line(points, REPORTING_PEN);
        connectors.push(Connector {
            id: format!("e:{}", connectors.len()),
            source: view.nodes[*up].id.clone(),
            target: view.nodes[*down].id.clone(),
            label: String::new(),
            pen: REPORTING_PEN,
            orthogonal: true,
        });
    }

    for (i, b, _) in &boxes {
        let node = &view.nodes[*i];
        let (fill, pen) = role_colours(node);
        let label = role_label(node, lang);
        paint.rect(*b, 6.0, Some(fill), Some(pen), label.join("\n"));
        let x = b.x + NODE_PAD;
        let inner = b.w - 2.0 * NODE_PAD;
        let badge = role_badge(node, lang);
        let badge_w = badge
            .as_ref()
            .map_or(0.0, |t| text_width(t, BADGE_SIZE) + 12.0);
        paint.text(
            x,
            b.y + 15.0,
            9.0,
            false,
            MUTED,
            Anchor::Start,
            inner - badge_w,
            node.kind.label(lang),
        );
        if let Some(badge) = &badge {
            let bw = text_width(badge, BADGE_SIZE) + 8.0;
            paint.badges(
                b.x + b.w - NODE_PAD - bw,
                b.y + 5.0,
                b.x + b.w - NODE_PAD,
                &[(badge.as_str(), WARNING)],
            );
        }
        paint.text(
            x,
            b.y + 33.0,
            13.0,
            true,
            INK,
            Anchor::Start,
            inner,
            &node.title,
        );
        let rows = [
            (11.0, INK, one_line(&node.person)),
            (10.0, MUTED, one_line(&node.organisation)),
            (10.0, MUTED, role_phone(node, lang)),
            (10.0, MUTED, role_email(node, lang)),
            (10.0, MUTED, role_responsibilities(node, lang)),
        ];
        let mut y = b.y + 49.0;
        for (size, colour, text) in rows {
            if text.is_empty() {
                continue;
            }
            paint.text(x, y, size, false, colour, Anchor::Start, inner, &text);
            y += 15.0;
        }
        cells.push(Cell {
            id: node.id.clone(),
            parent: None,
            kind: CellKind::Role,
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            label,
            fill,
            pen,
        });
    }

    // The incident contact order.
    paint.rect(
        chain_box,
        6.0,
        Some(CHAIN_FILL),
        Some(CHAIN_PEN),
        String::new(),
    );
    paint.text(
        chain_box.x + 10.0,
        chain_box.y + 22.0,
        13.0,
        true,
        WARNING,
        Anchor::Start,
        chain_box.w - 20.0,
        w.chain_title,
    );
    if chain.is_empty() {
        paint.text(
            chain_box.x + 10.0,
            chain_box.y + 50.0,
            10.0,
            false,
            MUTED,
            Anchor::Start,
            chain_box.w - 20.0,
            w.no_chain,
        );
    }
    for (n, (order, node)) in chain.iter().enumerate() {
        let y = chain_box.y + 34.0 + n as f64 * CHAIN_ENTRY;
        let number = format!("{order}.");
        paint.text(
            chain_box.x + 10.0,
            y + 13.0,
            12.0,
            true,
            WARNING,
            Anchor::Start,
            0.0,
            &number,
        );
        let x = chain_box.x + 36.0;
        let inner = chain_box.x + chain_box.w - 10.0 - x;
        let who = super::joined(&[&node.title, &node.person, &node.organisation]);
        paint.text(x, y + 13.0, 11.0, true, INK, Anchor::Start, inner, &who);
        let contact = super::joined(&[&node.business_phone, &node.business_email]);
        paint.text(
            x,
            y + 28.0,
            10.0,
            false,
            MUTED,
            Anchor::Start,
            inner,
            &contact,
        );
    }

    paint.legend(MARGIN, top + body_h + 20.0, &legend);

    Scene {
        width,
        height,
        title: w.org_title.to_owned(),
        language: language(lang),
        marks: paint.marks,
        cells,
        connectors,
    }
}
