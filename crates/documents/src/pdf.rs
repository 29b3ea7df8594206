//! Letters as A4 PDF with Japanese text.
//!
//! The font is IPAex Mincho, compiled into the binary and embedded as a
//! subset (only the glyphs used) with a ToUnicode map, so the text can be
//! searched and copied. Written with `krilla`, which does the subsetting and
//! the CID font plumbing; line breaking is ours because Japanese has no
//! spaces to break at.
//!
//! Layout of the body, line by line:
//! - every line of the body is a paragraph; blank lines are kept;
//! - `# ` at the start: a centred heading, larger and bold-ish;
//! - `>> ` at the start: aligned to the right (dates, the sender's block);
//! - a line starting with `第N条`: an article heading, bold-ish, kept with the
//!   line after it;
//! - long lines wrap by measured glyph width, never putting `、。）」` and the
//!   like at the start of a line nor `（「` at the end, and not inside a
//!   run of Latin letters (a URL) unless it is longer than a line;
//! - after `1　`, `(1)`, `①`, `・` and similar item marks, wrapped lines
//!   hang under the item's text.
//!
//! Page numbers `n / m` sit at the foot of every page.

use std::ops::Range;
use std::sync::LazyLock;

use krilla::Document;
use krilla::color::{luma, rgb};
use krilla::geom::Point;
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Paint, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};

use crate::DocumentError;

static FONT_BYTES: &[u8] = include_bytes!("../fonts/ipaexm.ttf");

// Parsing is cheap but krilla hashes the whole 8 MB font on creation: once.
static FONT: LazyLock<Option<Font>> = LazyLock::new(|| Font::new(FONT_BYTES.into(), 0));

const PAGE_WIDTH: f32 = 595.28; // A4 in points
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 68.0; // about 24 mm
const MARGIN_TOP: f32 = 62.0;
const MARGIN_BOTTOM: f32 = 70.0; // leaves room for the page number
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

const BODY_SIZE: f32 = 10.5; // the usual size of Japanese business letters
const HEADING_SIZE: f32 = 12.5;
const TITLE_SIZE: f32 = 16.0;
const FOOTER_SIZE: f32 = 9.0;
const LEADING: f32 = 1.7;

/// Write `body` under `title` as an A4 PDF. An empty title draws none.
///
/// Refuses text with a character the font does not have
/// ([`DocumentError::MissingGlyph`], naming it and its line of `body`; line 0
/// is the title), rather than printing a blank box into a letter.
pub fn letter_pdf(title: &str, body: &str) -> Result<Vec<u8>, DocumentError> {
    let font = FONT
        .as_ref()
        .ok_or_else(|| DocumentError::Pdf("embedded font could not be read".to_owned()))?;
    let face = ttf_parser::Face::parse(FONT_BYTES, 0)
        .map_err(|err| DocumentError::Pdf(format!("embedded font: {err}")))?;
    let metrics = Metrics::new(&face);

    let mut blocks = Vec::new();
    // The title is one line: a pasted newline becomes a space.
    let title = title.trim().replace(['\r', '\n'], " ");
    if !title.is_empty() {
        let line = shape_line(&metrics, &title, 0)?;
        blocks.push(Block {
            line,
            style: Style::Title,
        });
        blocks.push(Block::blank());
    }
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    for (index, raw) in body.split('\n').enumerate() {
        let (style, text) = classify(raw);
        let line = shape_line(&metrics, text, index + 1)?;
        blocks.push(Block { line, style });
    }
    // Trailing blank lines would only push an empty last page.
    while blocks.last().is_some_and(|b| b.line.chars.is_empty()) {
        blocks.pop();
    }

    let pages = paginate(&blocks);
    let total = pages.len();

    let mut document = Document::new();
    let mut metadata = Metadata::new()
        .language("ja".to_owned())
        .creator("Mamori".to_owned());
    if !title.is_empty() {
        metadata = metadata.title(title.clone());
    }
    document.set_metadata(metadata);

    for (number, placed) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| DocumentError::Pdf("page size".to_owned()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for item in placed {
            draw(&mut surface, font, item);
        }
        let footer = shape_line(&metrics, &format!("{} / {}", number + 1, total), 0)?;
        let width = footer.width(FOOTER_SIZE);
        let (text, glyphs) = footer.slice(0..footer.chars.len());
        draw(
            &mut surface,
            font,
            &Placed {
                x: (PAGE_WIDTH - width) / 2.0,
                baseline: PAGE_HEIGHT - MARGIN_BOTTOM / 2.0,
                size: FOOTER_SIZE,
                bold: false,
                text,
                glyphs,
            },
        );
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|err| DocumentError::Pdf(err.to_string()))
}

/// Glyph lookup and advances from the font, in em units.
#[derive(Clone, Copy)]
struct Metrics<'a> {
    face: &'a ttf_parser::Face<'a>,
    units_per_em: f32,
}

impl<'a> Metrics<'a> {
    fn new(face: &'a ttf_parser::Face<'a>) -> Self {
        Metrics {
            face,
            units_per_em: f32::from(face.units_per_em()),
        }
    }

    fn glyph(&self, ch: char) -> Option<(u16, f32)> {
        let id = self.face.glyph_index(ch)?;
        if id.0 == 0 {
            return None;
        }
        let advance = f32::from(self.face.glyph_hor_advance(id).unwrap_or(0)) / self.units_per_em;
        Some((id.0, advance))
    }
}

/// One source line, mapped to glyphs.
struct Shaped {
    text: String,
    chars: Vec<Cell>,
}

#[derive(Clone)]
struct Cell {
    ch: char,
    glyph: u16,
    /// Advance in em.
    advance: f32,
    /// Bytes of `ch` in `Shaped::text`, for the ToUnicode map.
    bytes: Range<usize>,
}

impl Shaped {
    fn width(&self, size: f32) -> f32 {
        self.chars.iter().map(|c| c.advance).sum::<f32>() * size
    }

    /// The text and glyphs of `range`, with byte ranges relative to that
    /// text: each drawn line carries its own text for the ToUnicode map.
    fn slice(&self, range: Range<usize>) -> (String, Vec<KrillaGlyph>) {
        let cells = &self.chars[range];
        let offset = cells.first().map_or(0, |c| c.bytes.start);
        let end = cells.last().map_or(offset, |c| c.bytes.end);
        let glyphs = cells
            .iter()
            .map(|c| {
                KrillaGlyph::new(
                    GlyphId::new(u32::from(c.glyph)),
                    c.advance, // in em; krilla scales by the font size
                    0.0,
                    0.0,
                    0.0,
                    c.bytes.start - offset..c.bytes.end - offset,
                    None,
                )
            })
            .collect();
        (self.text[offset..end].to_owned(), glyphs)
    }
}

/// Characters that carry no ink and that the font may lack: dropped rather
/// than refused (a pasted name may hold a variation selector or a BOM).
fn is_ignorable(ch: char) -> bool {
    matches!(ch,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{e0100}'..='\u{e01ef}')
}

fn shape_line(metrics: &Metrics<'_>, raw: &str, line: usize) -> Result<Shaped, DocumentError> {
    let mut text = String::with_capacity(raw.len());
    let mut chars = Vec::with_capacity(raw.len() / 2);
    for ch in raw.chars() {
        if ch == '\t' {
            // A tab is two ideographic spaces wide: an indent in a letter.
            for _ in 0..2 {
                push_cell(metrics, &mut text, &mut chars, '\u{3000}', line)?;
            }
            continue;
        }
        if is_ignorable(ch) {
            continue;
        }
        push_cell(metrics, &mut text, &mut chars, ch, line)?;
    }
    Ok(Shaped { text, chars })
}

fn push_cell(
    metrics: &Metrics<'_>,
    text: &mut String,
    chars: &mut Vec<Cell>,
    ch: char,
    line: usize,
) -> Result<(), DocumentError> {
    let (glyph, advance) = metrics
        .glyph(ch)
        .ok_or(DocumentError::MissingGlyph { ch, line })?;
    let start = text.len();
    text.push(ch);
    chars.push(Cell {
        ch,
        glyph,
        advance,
        bytes: start..text.len(),
    });
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Title,
    Heading,
    Article,
    Right,
    Body,
}

struct Block {
    line: Shaped,
    style: Style,
}

impl Block {
    fn blank() -> Self {
        Block {
            line: Shaped {
                text: String::new(),
                chars: Vec::new(),
            },
            style: Style::Body,
        }
    }
}

fn classify(raw: &str) -> (Style, &str) {
    if let Some(rest) = raw.strip_prefix("# ") {
        return (Style::Heading, rest.trim());
    }
    if let Some(rest) = raw.strip_prefix(">>") {
        return (Style::Right, rest.trim());
    }
    if is_article(raw.trim_start_matches([' ', '\u{3000}'])) {
        return (Style::Article, raw);
    }
    (Style::Body, raw)
}

/// An article heading: `第1条（本件業務）`, `第１２条 協議`, `第十条`, but not
/// prose that starts with a reference (`第3条から第7条は…`).
fn is_article(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('第') else {
        return false;
    };
    let number = |c: &char| {
        c.is_ascii_digit() || ('０'..='９').contains(c) || "一二三四五六七八九十百".contains(*c)
    };
    let digits = rest.chars().take_while(number).count();
    let mut after = rest.chars().skip(digits);
    digits > 0
        && after.next() == Some('条')
        && matches!(after.next(), None | Some('（' | '(' | ' ' | '\u{3000}'))
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Title => TITLE_SIZE,
            Style::Heading => HEADING_SIZE,
            _ => BODY_SIZE,
        }
    }

    fn bold(self) -> bool {
        matches!(self, Style::Title | Style::Heading | Style::Article)
    }

    /// Headings should not be the last line on a page.
    fn keep_with_next(self) -> bool {
        matches!(self, Style::Heading | Style::Article)
    }
}

/// A line ready to draw.
struct Placed {
    x: f32,
    baseline: f32,
    size: f32,
    bold: bool,
    text: String,
    glyphs: Vec<KrillaGlyph>,
}

fn paginate(blocks: &[Block]) -> Vec<Vec<Placed>> {
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut y = MARGIN_TOP;
    let bottom = PAGE_HEIGHT - MARGIN_BOTTOM;

    for block in blocks {
        let size = block.style.size();
        let height = size * LEADING;
        if block.line.chars.is_empty() {
            // A blank line at the top of a page is no use.
            if pages.last().is_some_and(|p| !p.is_empty()) {
                y += BODY_SIZE * LEADING;
            }
            continue;
        }
        let hang = match block.style {
            Style::Body => hanging_indent(&block.line) * size,
            _ => 0.0,
        };
        // A right-aligned block (a sender's name and address) wraps narrower,
        // so its lines stay a block at the right instead of a full line.
        let width = match block.style {
            Style::Right => CONTENT_WIDTH * 0.7,
            _ => CONTENT_WIDTH,
        };
        let ranges = break_lines(&block.line, size, width, hang);
        let needed = if block.style.keep_with_next() {
            height * (ranges.len() as f32 + 1.0)
        } else {
            height
        };
        for (i, range) in ranges.into_iter().enumerate() {
            let room = if i == 0 { needed } else { height };
            if y + room > bottom && pages.last().is_some_and(|p| !p.is_empty()) {
                pages.push(Vec::new());
                y = MARGIN_TOP;
            }
            let width = block.line.chars[range.clone()]
                .iter()
                .map(|c| c.advance)
                .sum::<f32>()
                * size;
            let x = match block.style {
                Style::Title | Style::Heading => {
                    MARGIN_X + ((CONTENT_WIDTH - width) / 2.0).max(0.0)
                }
                Style::Right => MARGIN_X + (CONTENT_WIDTH - width).max(0.0),
                _ if i > 0 => MARGIN_X + hang,
                _ => MARGIN_X,
            };
            let (text, glyphs) = block.line.slice(range);
            if let Some(page) = pages.last_mut() {
                page.push(Placed {
                    x,
                    baseline: y + height * 0.72,
                    size,
                    bold: block.style.bold(),
                    text,
                    glyphs,
                });
            }
            y += height;
        }
        if block.style == Style::Title {
            y += size * 0.5;
        }
    }
    pages
}

fn draw(surface: &mut Surface<'_>, font: &Font, item: &Placed) {
    draw_in(surface, font, item, luma::Color::black().into());
}

/// Draws `item` in `paint`.
fn draw_in(surface: &mut Surface<'_>, font: &Font, item: &Placed, paint: Paint) {
    if item.glyphs.is_empty() {
        return;
    }
    // Text is in its own colour whatever a table's shading left set.
    surface.set_fill(Some(Fill {
        paint: paint.clone(),
        ..Fill::default()
    }));
    if item.bold {
        // The font has no bold face: a thin outline of the same colour
        // thickens the strokes and keeps the text a single, searchable copy.
        // The fill stays set: a stroke alone would draw hollow letters.
        surface.set_stroke(Some(Stroke {
            paint,
            width: item.size * 0.035,
            ..Stroke::default()
        }));
    }
    surface.draw_glyphs(
        Point::from_xy(item.x, item.baseline),
        &item.glyphs,
        font.clone(),
        &item.text,
        item.size,
        false,
    );
    if item.bold {
        surface.set_stroke(None);
    }
}

/// Must not start a line (行頭禁則).
fn no_break_before(ch: char) -> bool {
    "、。，．,.)）]］｝}」』】〕〉》〙〗〟’”｠»ゝゞーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ々〻‐゠–〜～？！?!‼⁇⁈⁉・：；:;／…‥%％"
        .contains(ch)
}

/// Must not end a line (行末禁則).
fn no_break_after(ch: char) -> bool {
    "（([［｛{「『【〔〈《〘〖〝‘“｟«".contains(ch)
}

/// May hang into the right margin rather than start the next line (ぶら下げ).
fn may_hang(ch: char) -> bool {
    "、。，．,.".contains(ch)
}

/// Part of a run of Latin letters, digits and URL punctuation, which should
/// wrap as a unit.
fn is_word_char(ch: char) -> bool {
    ch.is_ascii_graphic()
}

/// Where wrapped lines of an item start, in em from the left margin: under
/// the text after `1　`, `(1)　`, `①　`, `・`. A single leading ideographic
/// space is a paragraph indent and does not hang; a deeper indent does.
fn hanging_indent(line: &Shaped) -> f32 {
    let cells = &line.chars;
    let is_space = |c: char| c == ' ' || c == '\u{3000}';
    let lead = cells.iter().take_while(|c| is_space(c.ch)).count();
    let em = |range: Range<usize>| cells[range].iter().map(|c| c.advance).sum::<f32>();
    let rest: Vec<char> = cells[lead..].iter().map(|c| c.ch).collect();

    let marker = item_marker(&rest);
    let indent = match marker {
        Some(len) => {
            let spaces = rest[len..].iter().take_while(|c| is_space(**c)).count();
            // `・` needs no space after it; the others do, or `1` is a number.
            if spaces == 0 && rest.first() != Some(&'・') {
                None
            } else {
                Some(em(0..lead + len + spaces))
            }
        }
        None => None,
    };
    let indent = indent.unwrap_or_else(|| if em(0..lead) > 1.01 { em(0..lead) } else { 0.0 });
    // Never hang more than half a line: the rest would be a thin column.
    indent.min(CONTENT_WIDTH / BODY_SIZE / 2.0)
}

/// Length in chars of an item mark at the start of `rest`.
fn item_marker(rest: &[char]) -> Option<usize> {
    let digit = |c: &char| c.is_ascii_digit() || ('０'..='９').contains(c);
    let first = *rest.first()?;
    if ('①'..='⑳').contains(&first) || first == '・' {
        return Some(1);
    }
    if first == '(' || first == '（' {
        let n = rest[1..].iter().take_while(|c| digit(c)).count();
        let close = rest.get(1 + n).copied();
        if n > 0 && (close == Some(')') || close == Some('）')) {
            return Some(n + 2);
        }
        return None;
    }
    let n = rest.iter().take_while(|c| digit(c)).count();
    if n == 0 || n > 3 {
        return None;
    }
    match rest.get(n) {
        Some('.') | Some('．') => Some(n + 1),
        _ => Some(n),
    }
}

/// Split `line` into ranges of cells that fit `width` at `size`; lines after
/// the first are `hang` narrower.
fn break_lines(line: &Shaped, size: f32, width: f32, hang: f32) -> Vec<Range<usize>> {
    let cells = &line.chars;
    let n = cells.len();
    let em = |range: Range<usize>| cells[range].iter().map(|c| c.advance).sum::<f32>() * size;
    let japanese_ok = |b: usize| {
        let (before, after) = (cells[b - 1].ch, cells[b].ch);
        !(no_break_before(after)
            || no_break_after(before)
            // `第7条` stays together.
            || (before == '第' && (after.is_ascii_digit() || ('０'..='９').contains(&after))))
    };
    let in_word = |b: usize| is_word_char(cells[b - 1].ch) && is_word_char(cells[b].ch);

    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let avail = if out.is_empty() { width } else { width - hang };
        let mut end = start;
        let mut used = 0.0;
        while end < n && used + cells[end].advance * size <= avail + 0.01 {
            used += cells[end].advance * size;
            end += 1;
        }
        if end == n {
            out.push(start..n);
            break;
        }
        if end == start {
            end = start + 1; // one glyph wider than the line: place it anyway
        } else if may_hang(cells[end].ch) {
            end += 1;
        } else {
            // A word (URL, address) wider than a whole line is broken where
            // it must be; a shorter one moves down whole.
            let keep_word = in_word(end) && {
                let word_start = (0..end)
                    .rev()
                    .find(|&i| !is_word_char(cells[i].ch))
                    .map_or(0, |i| i + 1);
                let word_end = (end..n).find(|&i| !is_word_char(cells[i].ch)).unwrap_or(n);
                em(word_start..word_end) <= width - hang
            };
            let candidates = || (start + 1..=end).rev();
            end = candidates()
                .find(|&b| japanese_ok(b) && !(keep_word && in_word(b)))
                .or_else(|| candidates().find(|&b| japanese_ok(b)))
                .unwrap_or(end);
        }
        out.push(start..end);
        start = end;
        // A space that caused the break is not carried to the next line.
        while start < n && cells[start].ch == ' ' {
            start += 1;
        }
    }
    // A last line of one character (and its punctuation) looks lost: take
    // one more character down from the line above.
    if let [.., previous, last] = out.as_mut_slice() {
        let letters = cells[last.clone()]
            .iter()
            .filter(|c| !no_break_before(c.ch))
            .count();
        let b = last.start - 1;
        if letters <= 1 && previous.len() > 4 && b > previous.start && japanese_ok(b) {
            previous.end = b;
            last.start = b;
        }
    }
    out
}

// Pages -------------------------------------------------------------------
//
// Every multi-page PDF but the letter is laid out on a `Flow`: pages of any
// size collected in one list (tables, lines of text, drawings), stamped
// afterwards (page numbers, a header, a table of contents whose numbers are
// only known once everything is laid out), then written as one krilla
// document.
//
// Tables: the header row repeats on every page a table continues on; cells
// wrap by the same rules as letters; a row taller than what is left of a
// page moves to the next, and one taller than a whole page is split across
// pages. Characters the font lacks print as 〓 (geta, the usual mark for a
// missing character) instead of refusing the print.

const TABLE_PAGE_WIDTH: f32 = PAGE_HEIGHT; // landscape
const TABLE_PAGE_HEIGHT: f32 = PAGE_WIDTH;
const TABLE_MARGIN_X: f32 = 36.0;
const TABLE_MARGIN_TOP: f32 = 40.0;
const TABLE_MARGIN_BOTTOM: f32 = 42.0;
pub(crate) const CELL_SIZE: f32 = 8.5;
const CELL_LEADING: f32 = 1.45;
const CELL_PAD: f32 = 3.0;
pub(crate) const BLOCK_SIZE: f32 = 9.5;
pub(crate) const TABLE_TITLE_SIZE: f32 = 13.0;
pub(crate) const FOOTER_TEXT_SIZE: f32 = FOOTER_SIZE;

/// One table with the lines above it.
pub(crate) struct TablePart {
    /// Printed large at the top of the part's first page.
    pub title: String,
    /// Printed under the title, one per line.
    pub lines: Vec<String>,
    /// Header labels and their share of the table's width.
    pub columns: Vec<(String, f32)>,
    pub rows: Vec<TableRow>,
}

pub(crate) enum TableRow {
    /// A shaded row across the whole table.
    Section(String),
    /// One text per column.
    Cells(Vec<String>),
}

/// A page's size and margins, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    pub width: f32,
    pub height: f32,
    pub margin_x: f32,
    pub top: f32,
    pub bottom: f32,
}

impl Frame {
    /// The checklist print's landscape A4.
    pub(crate) const LANDSCAPE: Frame = Frame {
        width: TABLE_PAGE_WIDTH,
        height: TABLE_PAGE_HEIGHT,
        margin_x: TABLE_MARGIN_X,
        top: TABLE_MARGIN_TOP,
        bottom: TABLE_MARGIN_BOTTOM,
    };

    pub(crate) fn content_width(&self) -> f32 {
        self.width - 2.0 * self.margin_x
    }

    fn limit(&self) -> f32 {
        self.height - self.bottom
    }
}

/// What a page holds.
enum Mark {
    Text(Placed),
    /// x, y (top), width, height; shaded or not.
    Box(f32, f32, f32, f32, bool),
    /// Drawn in order, over the shading and under the text.
    Ink(Ink),
}

struct Page {
    width: f32,
    height: f32,
    marks: Vec<Mark>,
}

/// Lines of a cell, wrapped to its width.
struct Wrapped {
    lines: Vec<(String, Vec<KrillaGlyph>)>,
}

fn shape_lossy(metrics: &Metrics<'_>, raw: &str) -> Shaped {
    let mut text = String::with_capacity(raw.len());
    let mut chars = Vec::with_capacity(raw.len() / 2);
    for ch in raw.chars() {
        if is_ignorable(ch) {
            continue;
        }
        let ch = if ch == '\t' { ' ' } else { ch };
        let ch = if metrics.glyph(ch).is_some() {
            ch
        } else {
            '〓'
        };
        // 〓 is in every JIS font; if even it is missing, drop the character.
        let _ = push_cell(metrics, &mut text, &mut chars, ch, 0);
    }
    Shaped { text, chars }
}

fn wrap_cell(metrics: &Metrics<'_>, text: &str, size: f32, width: f32) -> Wrapped {
    let mut lines = Vec::new();
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for paragraph in text.split('\n') {
        let shaped = shape_lossy(metrics, paragraph);
        if shaped.chars.is_empty() {
            if !lines.is_empty() {
                lines.push((String::new(), Vec::new()));
            }
            continue;
        }
        for range in break_lines(&shaped, size, width.max(size), 0.0) {
            lines.push(shaped.slice(range));
        }
    }
    // A trailing blank paragraph adds nothing.
    while lines.last().is_some_and(|(t, _)| t.is_empty()) {
        lines.pop();
    }
    Wrapped { lines }
}

/// The embedded font, for drawing, and its face, for measuring.
pub(crate) fn embedded_font() -> Result<(&'static Font, ttf_parser::Face<'static>), DocumentError> {
    let font = FONT
        .as_ref()
        .ok_or_else(|| DocumentError::Pdf("embedded font could not be read".to_owned()))?;
    let face = ttf_parser::Face::parse(FONT_BYTES, 0)
        .map_err(|err| DocumentError::Pdf(format!("embedded font: {err}")))?;
    Ok((font, face))
}

/// Pages being laid out, top to bottom, page after page.
pub(crate) struct Flow<'a> {
    metrics: Metrics<'a>,
    pages: Vec<Page>,
    frame: Frame,
    /// Where the next thing goes on the last page.
    y: f32,
}

impl<'a> Flow<'a> {
    pub(crate) fn new(face: &'a ttf_parser::Face<'a>) -> Self {
        Flow {
            metrics: Metrics::new(face),
            pages: Vec::new(),
            frame: Frame::LANDSCAPE,
            y: Frame::LANDSCAPE.top,
        }
    }

    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Width and height of page `index` (0-based).
    pub(crate) fn page_size(&self, index: usize) -> Option<(f32, f32)> {
        self.pages.get(index).map(|p| (p.width, p.height))
    }

    /// Starts a page of `frame`; what follows flows onto pages like it.
    pub(crate) fn start_page(&mut self, frame: Frame) {
        self.frame = frame;
        self.pages.push(Page {
            width: frame.width,
            height: frame.height,
            marks: Vec::new(),
        });
        self.y = frame.top;
    }

    fn break_page(&mut self) {
        self.start_page(self.frame);
    }

    fn push(&mut self, mark: Mark) {
        if self.pages.is_empty() {
            self.start_page(self.frame);
        }
        if let Some(page) = self.pages.last_mut() {
            page.marks.push(mark);
        }
    }

    /// Adds `ink` to page `index` (0-based) after layout: page numbers,
    /// headers, a table of contents.
    pub(crate) fn stamp(&mut self, index: usize, ink: Ink) {
        if let Some(page) = self.pages.get_mut(index) {
            page.marks.push(Mark::Ink(ink));
        }
    }

    /// Where the next thing goes on the last page, from its top.
    pub(crate) fn y(&self) -> f32 {
        self.y
    }

    /// Moves down by `dy`.
    pub(crate) fn gap(&mut self, dy: f32) {
        self.y += dy;
    }

    /// Starts a new page unless `height` still fits on this one.
    pub(crate) fn keep(&mut self, height: f32) {
        let fresh = self.pages.last().is_none_or(|p| p.marks.is_empty());
        if !fresh && self.y + height > self.frame.limit() {
            self.break_page();
        }
    }

    /// A paragraph wrapped to the frame's width, lines `size × 1.5` apart,
    /// aligned by `align` (start, centre, end of the line).
    pub(crate) fn paragraph(&mut self, text: &str, size: f32, bold: bool, align: Anchor) {
        let width = self.frame.content_width();
        let wrapped = wrap_cell(&self.metrics, text, size, width);
        let height = size * 1.5;
        for (text, glyphs) in wrapped.lines {
            self.keep(height);
            let used = glyphs.iter().map(|g| g.x_advance).sum::<f32>() * size;
            let x = self.frame.margin_x
                + match align {
                    Anchor::Start => 0.0,
                    Anchor::Middle => ((width - used) / 2.0).max(0.0),
                    Anchor::End => (width - used).max(0.0),
                };
            let baseline = self.y + height * 0.75;
            self.push(Mark::Text(Placed {
                x,
                baseline,
                size,
                bold,
                text,
                glyphs,
            }));
            self.y += height;
        }
    }

    /// A page of its own, `width` × `height`, holding `inks`.
    pub(crate) fn drawing(&mut self, width: f32, height: f32, inks: Vec<Ink>) {
        self.pages.push(Page {
            width,
            height,
            marks: inks.into_iter().map(Mark::Ink).collect(),
        });
        // Whatever follows starts a page of its own.
        self.y = f32::INFINITY;
    }

    /// Lays a table out from the current position, cells in `cell_size`
    /// type; the header row repeats on every page the table continues on.
    pub(crate) fn table(&mut self, columns: &[(String, f32)], rows: &[TableRow], cell_size: f32) {
        let frame = self.frame;
        let bottom = frame.limit();
        let table_width = frame.content_width();
        let pad = CELL_PAD * cell_size / CELL_SIZE;
        let line_height = cell_size * CELL_LEADING;
        let total_share: f32 = columns.iter().map(|(_, w)| w.max(0.0)).sum();
        let total_share = if total_share > 0.0 { total_share } else { 1.0 };
        let widths: Vec<f32> = columns
            .iter()
            .map(|(_, w)| w.max(0.0) / total_share * table_width)
            .collect();
        let lefts: Vec<f32> = widths
            .iter()
            .scan(frame.margin_x, |x, w| {
                let left = *x;
                *x += w;
                Some(left)
            })
            .collect();
        let metrics = self.metrics;
        let wrap_row = |cells: &[String]| -> Vec<Wrapped> {
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let text = cells.get(i).map(String::as_str).unwrap_or("");
                    wrap_cell(&metrics, text, cell_size, w - 2.0 * pad)
                })
                .collect()
        };
        let headers: Vec<String> = columns.iter().map(|(h, _)| h.clone()).collect();
        let header = wrap_row(&headers);
        let header_lines = header
            .iter()
            .map(|c| c.lines.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let header_height = header_lines as f32 * line_height + 2.0 * pad;
        let fresh_room = bottom - frame.top - header_height;

        // The header row, on this page and every page the table continues on.
        let place_header = |flow: &mut Flow<'_>, y: f32| {
            for (i, cell) in header.iter().enumerate() {
                flow.place_cell(lefts[i], y, &cell.lines, true, cell_size, pad);
                flow.push(Mark::Box(lefts[i], y, widths[i], header_height, true));
            }
        };
        let new_page = |flow: &mut Flow<'_>| -> f32 {
            flow.break_page();
            place_header(flow, frame.top);
            frame.top + header_height
        };

        // A header alone at the foot of a page says nothing.
        self.keep(header_height + line_height + 2.0 * pad);
        let mut y = self.y;
        place_header(self, y);
        y += header_height;

        for (index, row) in rows.iter().enumerate() {
            match row {
                TableRow::Section(label) => {
                    let wrapped = wrap_cell(&metrics, label, cell_size, table_width - 2.0 * pad);
                    let height = wrapped.lines.len().max(1) as f32 * line_height + 2.0 * pad;
                    // A section title is not left alone at the foot of a page.
                    let next = match rows.get(index + 1) {
                        Some(TableRow::Cells(_)) => line_height * 2.0 + 2.0 * pad,
                        _ => 0.0,
                    };
                    if y + height + next > bottom && height + next <= fresh_room {
                        y = new_page(self);
                    }
                    self.place_cell(frame.margin_x, y, &wrapped.lines, true, cell_size, pad);
                    self.push(Mark::Box(frame.margin_x, y, table_width, height, true));
                    y += height;
                }
                TableRow::Cells(cells) => {
                    let wrapped = wrap_row(cells);
                    let lines = wrapped
                        .iter()
                        .map(|c| c.lines.len())
                        .max()
                        .unwrap_or(1)
                        .max(1);
                    let height = lines as f32 * line_height + 2.0 * pad;
                    if y + height > bottom && height <= fresh_room {
                        y = new_page(self);
                    }
                    // Draw the row in slices that fit (one slice unless it
                    // is taller than a page).
                    let mut from = 0;
                    while from < lines {
                        let room = ((bottom - y - 2.0 * pad) / line_height).floor();
                        if room < 1.0 {
                            y = new_page(self);
                            continue;
                        }
                        let take = (room as usize).min(lines - from);
                        let slice_height = take as f32 * line_height + 2.0 * pad;
                        for (i, cell) in wrapped.iter().enumerate() {
                            let end = (from + take).min(cell.lines.len());
                            let part_lines = cell.lines.get(from..end).unwrap_or(&[]);
                            self.place_cell(lefts[i], y, part_lines, false, cell_size, pad);
                            self.push(Mark::Box(lefts[i], y, widths[i], slice_height, false));
                        }
                        y += slice_height;
                        from += take;
                    }
                }
            }
        }
        self.y = y;
    }

    fn place_cell(
        &mut self,
        x: f32,
        y: f32,
        lines: &[(String, Vec<KrillaGlyph>)],
        bold: bool,
        size: f32,
        pad: f32,
    ) {
        let line_height = size * CELL_LEADING;
        for (n, (text, glyphs)) in lines.iter().enumerate() {
            self.push(Mark::Text(Placed {
                x: x + pad,
                baseline: y + pad + n as f32 * line_height + line_height * 0.75,
                size,
                bold,
                text: text.clone(),
                glyphs: glyphs.clone(),
            }));
        }
    }

    /// Writes every page as one PDF.
    pub(crate) fn write(
        &self,
        font: &Font,
        title: &str,
        language: &str,
    ) -> Result<Vec<u8>, DocumentError> {
        let mut document = Document::new();
        let mut metadata = Metadata::new()
            .language(language.to_owned())
            .creator("Mamori".to_owned());
        if !title.trim().is_empty() {
            metadata = metadata.title(title.trim().to_owned());
        }
        document.set_metadata(metadata);
        for page in &self.pages {
            let settings = PageSettings::from_wh(page.width, page.height).ok_or_else(|| {
                DocumentError::Pdf(format!("page size {} × {}", page.width, page.height))
            })?;
            let mut pdf_page = document.start_page_with(settings);
            let mut surface = pdf_page.surface();
            // Shading first, then drawings, then text, then the grid on top.
            for mark in &page.marks {
                if let Mark::Box(x, y, w, h, true) = mark {
                    draw_box(&mut surface, *x, *y, *w, *h, true);
                }
            }
            for mark in &page.marks {
                if let Mark::Ink(ink) = mark {
                    draw_ink(&mut surface, font, &self.metrics, ink);
                }
            }
            for mark in &page.marks {
                if let Mark::Text(placed) = mark {
                    draw(&mut surface, font, placed);
                }
            }
            for mark in &page.marks {
                if let Mark::Box(x, y, w, h, _) = mark {
                    draw_box(&mut surface, *x, *y, *w, *h, false);
                }
            }
            surface.finish();
            pdf_page.finish();
        }
        document
            .finish()
            .map_err(|err| DocumentError::Pdf(err.to_string()))
    }
}

/// Lays the parts out and writes the PDF, with `n / m` at each page's foot.
pub(crate) fn table_pdf(title: &str, parts: &[TablePart]) -> Result<Vec<u8>, DocumentError> {
    let (font, face) = embedded_font()?;
    let mut flow = Flow::new(&face);
    for part in parts {
        layout_part(&mut flow, part);
    }
    if flow.page_count() == 0 {
        flow.start_page(Frame::LANDSCAPE);
    }
    let total = flow.page_count();
    for number in 0..total {
        flow.stamp(
            number,
            Ink::Text {
                x: TABLE_PAGE_WIDTH / 2.0,
                baseline: TABLE_PAGE_HEIGHT - TABLE_MARGIN_BOTTOM / 2.0,
                size: FOOTER_SIZE,
                bold: false,
                color: (0, 0, 0),
                anchor: Anchor::Middle,
                max_width: 0.0,
                text: format!("{} / {}", number + 1, total),
            },
        );
    }
    flow.write(font, title, "ja")
}

fn draw_box(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, shaded: bool) {
    let Some(rect) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut builder = PathBuilder::new();
    builder.push_rect(rect);
    let Some(path) = builder.finish() else {
        return;
    };
    if shaded {
        surface.set_stroke(None);
        surface.set_fill(Some(Fill {
            paint: luma::Color::new(230).into(),
            ..Fill::default()
        }));
    } else {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: luma::Color::new(90).into(),
            width: 0.5,
            ..Stroke::default()
        }));
    }
    surface.draw_path(&path);
    surface.set_fill(None);
    surface.set_stroke(None);
}

/// A part on a fresh landscape page: its title block, then its table.
fn layout_part(flow: &mut Flow<'_>, part: &TablePart) {
    flow.start_page(Frame::LANDSCAPE);
    flow.paragraph(&part.title, TABLE_TITLE_SIZE, true, Anchor::Start);
    flow.gap(TABLE_TITLE_SIZE * 0.4);
    for line in &part.lines {
        flow.paragraph(line, BLOCK_SIZE, false, Anchor::Start);
    }
    flow.gap(BLOCK_SIZE * 0.8);
    flow.table(&part.columns, &part.rows, CELL_SIZE);
}

// Drawings ----------------------------------------------------------------
//
// One page of boxes, lines and single lines of text at given places (the
// ledger's diagrams): the caller lays everything out; this draws it with
// the embedded font. Characters the font lacks print as 〓, and text longer
// than its room is cut with `…` by the font's real widths.

/// A colour: red, green, blue.
pub(crate) type Rgb = (u8, u8, u8);

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pen {
    pub color: Rgb,
    pub width: f32,
    /// Dash and gap lengths; `None` for a solid line.
    pub dash: Option<(f32, f32)>,
}

/// Where a line of text hangs from its `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// One thing drawn on a drawing page; coordinates in points from the top
/// left, drawn in order (later over earlier).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ink {
    /// A rectangle with corners rounded by `radius`.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        radius: f32,
        fill: Option<Rgb>,
        pen: Option<Pen>,
    },
    /// Straight segments through `points`.
    Path { points: Vec<(f32, f32)>, pen: Pen },
    /// One line of text on `baseline`, cut to `max_width` (0: no limit).
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        color: Rgb,
        anchor: Anchor,
        max_width: f32,
        text: String,
    },
}

/// Writes one page of `width` × `height` points holding `inks`.
pub(crate) fn drawing_pdf(
    title: &str,
    language: &str,
    width: f32,
    height: f32,
    inks: &[Ink],
) -> Result<Vec<u8>, DocumentError> {
    let (font, face) = embedded_font()?;
    let mut flow = Flow::new(&face);
    flow.drawing(width, height, inks.to_vec());
    flow.write(font, title, language)
}

fn draw_ink(surface: &mut Surface<'_>, font: &Font, metrics: &Metrics<'_>, ink: &Ink) {
    match ink {
        Ink::Rect {
            x,
            y,
            w,
            h,
            radius,
            fill,
            pen,
        } => {
            if let Some(path) = rect_path(*x, *y, *w, *h, *radius) {
                surface.set_fill(fill.map(|c| Fill {
                    paint: rgb_paint(c),
                    ..Fill::default()
                }));
                surface.set_stroke(pen.as_ref().map(stroke));
                surface.draw_path(&path);
            }
        }
        Ink::Path { points, pen } => {
            let mut builder = PathBuilder::new();
            for (i, (x, y)) in points.iter().enumerate() {
                if i == 0 {
                    builder.move_to(*x, *y);
                } else {
                    builder.line_to(*x, *y);
                }
            }
            if points.len() > 1
                && let Some(path) = builder.finish()
            {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(pen)));
                surface.draw_path(&path);
            }
        }
        Ink::Text {
            x,
            baseline,
            size,
            bold,
            color,
            anchor,
            max_width,
            text,
        } => {
            let line = fit_line(metrics, text, *size, *max_width);
            let width = line.width(*size);
            let x = match anchor {
                Anchor::Start => *x,
                Anchor::Middle => x - width / 2.0,
                Anchor::End => x - width,
            };
            let (text, glyphs) = line.slice(0..line.chars.len());
            surface.set_stroke(None);
            draw_in(
                surface,
                font,
                &Placed {
                    x,
                    baseline: *baseline,
                    size: *size,
                    bold: *bold,
                    text,
                    glyphs,
                },
                rgb_paint(*color),
            );
        }
    }
    surface.set_fill(None);
    surface.set_stroke(None);
}

fn rgb_paint((r, g, b): Rgb) -> Paint {
    rgb::Color::new(r, g, b).into()
}

fn stroke(pen: &Pen) -> Stroke {
    Stroke {
        paint: rgb_paint(pen.color),
        width: pen.width,
        dash: pen.dash.map(|(on, off)| StrokeDash {
            array: vec![on, off],
            offset: 0.0,
        }),
        ..Stroke::default()
    }
}

/// A rectangle, its corners rounded by `radius` (at most half a side).
fn rect_path(x: f32, y: f32, w: f32, h: f32, radius: f32) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    let r = radius.min(w / 2.0).min(h / 2.0).max(0.0);
    if r <= 0.0 {
        builder.push_rect(Rect::from_xywh(x, y, w, h)?);
    } else {
        builder.move_to(x + r, y);
        builder.line_to(x + w - r, y);
        builder.quad_to(x + w, y, x + w, y + r);
        builder.line_to(x + w, y + h - r);
        builder.quad_to(x + w, y + h, x + w - r, y + h);
        builder.line_to(x + r, y + h);
        builder.quad_to(x, y + h, x, y + h - r);
        builder.line_to(x, y + r);
        builder.quad_to(x, y, x + r, y);
        builder.close();
    }
    builder.finish()
}

/// `text` on one line (line breaks become spaces), cut with `…` to
/// `max_width` at `size` when that is positive.
fn fit_line(metrics: &Metrics<'_>, text: &str, size: f32, max_width: f32) -> Shaped {
    let text = text.replace(['\r', '\n'], " ");
    let line = shape_lossy(metrics, &text);
    if max_width <= 0.0 || line.width(size) <= max_width {
        return line;
    }
    let ellipsis = metrics.glyph('…').map_or(0.0, |(_, a)| a) * size;
    let mut used = ellipsis;
    let mut cut = String::new();
    for cell in &line.chars {
        used += cell.advance * size;
        if used > max_width {
            break;
        }
        cut.push(cell.ch);
    }
    cut.push('…');
    shape_lossy(metrics, &cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::{LetterKind, render_letter};

    fn shaped(text: &str) -> Shaped {
        let face = ttf_parser::Face::parse(FONT_BYTES, 0).unwrap();
        let metrics = Metrics::new(&face);
        shape_line(&metrics, text, 1).unwrap()
    }

    fn wrap(text: &str, chars_per_line: f32) -> Vec<String> {
        let line = shaped(text);
        let ranges = break_lines(&line, 10.0, chars_per_line * 10.0, 0.0);
        ranges
            .into_iter()
            .map(|r| line.chars[r].iter().map(|c| c.ch).collect())
            .collect()
    }

    /// Text of a PDF as a reader would copy it, without the whitespace the
    /// extractor puts between lines.
    fn extract(pdf: &[u8]) -> String {
        let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn squeeze(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn page_count(pdf: &[u8]) -> usize {
        lopdf::Document::load_mem(pdf).unwrap().get_pages().len()
    }

    #[test]
    fn full_width_glyphs_are_one_em() {
        let line = shaped("病院　A");
        assert!((line.chars[0].advance - 1.0).abs() < 1e-3);
        assert!((line.chars[1].advance - 1.0).abs() < 1e-3);
        assert!(line.chars[3].advance < 0.8);
    }

    #[test]
    fn wraps_japanese_by_width() {
        let lines = wrap("あいうえおかきくけこさしすせそ", 5.0);
        assert_eq!(lines, ["あいうえお", "かきくけこ", "さしすせそ"]);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // 、 at position 6 hangs on the line; 」 is pulled back with a char.
        let lines = wrap("あいうえお、かきくけ「こさ」しす", 5.0);
        assert_eq!(lines[0], "あいうえお、");
        for line in &lines {
            let first = line.chars().next().unwrap();
            assert!(!no_break_before(first), "{lines:?}");
            let last = line.chars().last().unwrap();
            assert!(!no_break_after(last), "{lines:?}");
        }
        assert_eq!(lines.concat(), "あいうえお、かきくけ「こさ」しす");
    }

    #[test]
    fn no_lonely_last_character_nor_split_article_number() {
        let lines = wrap("あいうえおかきくけこさ。", 10.0);
        assert_eq!(lines, ["あいうえおかきくけ", "こさ。"]);
        let lines = wrap("あいうえおかきくけ第7条", 10.0);
        assert_eq!(lines[1], "第7条");
    }

    #[test]
    fn latin_words_wrap_whole() {
        let lines = wrap("連絡先はresearch@example.jpです", 12.0);
        assert_eq!(lines[0], "連絡先は");
        assert!(lines[1].starts_with("research@example.jp"), "{lines:?}");
        // Longer than a line: broken, but nothing lost.
        let url = "https://www.mhlw.go.jp/content/10808000/000936160.pdf";
        let lines = wrap(url, 10.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), url);
    }

    #[test]
    fn items_hang_under_their_text() {
        let one = shaped("1").chars[0].advance;
        assert!((hanging_indent(&shaped("1　本誓約は")) - (one + 1.0)).abs() < 0.01);
        assert!((hanging_indent(&shaped("　①　貴院より")) - 3.0).abs() < 0.01);
        assert!((hanging_indent(&shaped("　　・各システム")) - 3.0).abs() < 0.01);
        assert_eq!(hanging_indent(&shaped("　この度、協会は")), 0.0);
        assert_eq!(hanging_indent(&shaped("2022年11月21日")), 0.0);
        assert!(is_article("第1条（本件業務）"));
        assert!(is_article("第１０条（協議）"));
        assert!(is_article("第9条"));
        assert!(!is_article("第3条から第7条は"));
        assert!(!is_article("次第"));
    }

    #[test]
    fn missing_glyph_is_named_with_its_line() {
        let err = letter_pdf("題", "一行目\n二行目 🙂\n").unwrap_err();
        match err {
            DocumentError::MissingGlyph { ch, line } => {
                assert_eq!(ch, '🙂');
                assert_eq!(line, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
        // Variation selectors and zero-width spaces are dropped, not refused.
        letter_pdf("題", "葛\u{e0100}城\u{200b}市").unwrap();
        let err = letter_pdf("題🙂", "本文").unwrap_err();
        assert!(matches!(err, DocumentError::MissingGlyph { line: 0, .. }));
        // A newline in the title is a space, not a missing glyph.
        letter_pdf("秘密保持\n誓約書", "本文").unwrap();
    }

    #[test]
    fn each_default_letter_has_searchable_japanese_text() {
        for kind in LetterKind::ALL {
            let context = kind.sample_context();
            let body = render_letter(kind.default_template(), &context).unwrap();
            let pdf = letter_pdf(kind.title_ja(), &body).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
            let text = extract(&pdf);
            assert!(text.contains(kind.title_ja()), "{}: title", kind.slug());
            for field in kind.fields() {
                let value = context
                    .pointer(&format!("/{}", field.name.replace('.', "/")))
                    .and_then(|v| v.as_str())
                    .unwrap();
                assert!(
                    text.contains(&squeeze(value)),
                    "{}: {} ({value}) not in the extracted text",
                    kind.slug(),
                    field.name
                );
            }
            // Layout marks are not printed.
            assert!(!text.contains(">>"), "{}", kind.slug());
            assert!(text.contains("1/"), "{}: page number", kind.slug());
            // Subset, not the whole 8 MB font.
            assert!(pdf.len() < 300_000, "{}: {} bytes", kind.slug(), pdf.len());
        }
    }

    #[test]
    fn long_text_breaks_into_numbered_pages() {
        let paragraph = "　サイバーセキュリティに関する各病院の技術水準を高めることや、人材を揃えることはたいへん困難です。";
        let body: Vec<String> = (1..=120).map(|i| format!("{i}. {paragraph}")).collect();
        let pdf = letter_pdf("長い文書", &body.join("\n")).unwrap();
        let pages = page_count(&pdf);
        assert!(pages > 1, "{pages} pages");
        let text = extract(&pdf);
        assert!(text.contains(&format!("1/{pages}")), "first page number");
        assert!(
            text.contains(&format!("{pages}/{pages}")),
            "last page number"
        );
        assert!(text.contains("120.サイバーセキュリティ"), "last paragraph");
    }

    #[test]
    fn blank_lines_and_empty_title_are_fine() {
        let pdf = letter_pdf("", "\n\n上\n\n\n下\n\n").unwrap();
        let text = extract(&pdf);
        assert!(text.contains('上') && text.contains('下'));
        assert_eq!(page_count(&pdf), 1);
    }
}
