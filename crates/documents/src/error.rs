use thiserror::Error;

/// Everything that can go wrong while making a document.
///
/// Messages are English; the fields carry what a Japanese screen needs
/// (the field name, the line, the character) so the web layer can say it in
/// the user's language.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// The template does not parse (an unclosed `{{`, a misspelt tag …).
    #[error("template syntax error on line {line}: {message}")]
    TemplateSyntax { line: usize, message: String },

    /// The template uses a merge field that this letter does not have.
    #[error("unknown merge field `{field}`{}", line_suffix(*.line))]
    UnknownField { field: String, line: Option<usize> },

    /// The template parsed but failed while rendering (a bad filter
    /// argument, a loop that never ends …).
    #[error("template could not be rendered{}: {message}", line_suffix(*.line))]
    TemplateRender {
        line: Option<usize>,
        message: String,
    },

    /// The template is longer than a letter template can sensibly be.
    #[error("template is {len} bytes; at most {max} are accepted")]
    TemplateTooLarge { len: usize, max: usize },

    /// A letter kind slug that is not one of ours.
    #[error("unknown letter kind `{0}` (valid: request-letter, pledge, nda)")]
    UnknownLetterKind(String),

    /// The text has a character that the embedded font cannot draw (line 0
    /// is the title).
    #[error("line {line}: character {ch:?} (U+{:04X}) is not in the font", u32::from(*.ch))]
    MissingGlyph { ch: char, line: usize },

    /// A row of input data that cannot be written (row is 1-based).
    #[error("row {row}: {field}: {reason}")]
    InvalidRow {
        row: usize,
        field: &'static str,
        reason: String,
    },

    /// The PDF writer refused the document.
    #[error("PDF could not be written: {0}")]
    Pdf(String),

    /// The spreadsheet writer refused the workbook.
    #[error("spreadsheet could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

fn line_suffix(line: Option<usize>) -> String {
    match line {
        Some(line) => format!(" on line {line}"),
        None => String::new(),
    }
}
