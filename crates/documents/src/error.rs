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

    /// The zip archive could not be written.
    #[error("archive could not be written: {0}")]
    Archive(String),

    /// The PDF writer refused the document.
    #[error("PDF could not be written: {0}")]
    Pdf(String),

    /// The spreadsheet writer refused the workbook.
    #[error("spreadsheet could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),

    /// An uploaded file is not an Excel workbook (.xlsx).
    #[error("not an Excel workbook (.xlsx): {reason}")]
    NotAWorkbook { reason: String },

    /// An OLE compound file: what Excel writes for a password-protected
    /// workbook, and the old .xls format.
    #[error(
        "the file is password-protected or an old Excel 97-2003 .xls (an OLE compound file, \
         not an .xlsx); remove the password and save it as .xlsx"
    )]
    ProtectedOrLegacyWorkbook,

    /// The upload is larger than we read.
    #[error("the workbook is {bytes} bytes; at most {max} are accepted")]
    WorkbookTooLarge { bytes: usize, max: usize },

    /// The workbook unpacks to more than we read: a possible zip bomb.
    #[error(
        "the workbook unpacks to more than {max} bytes (part `{part}`); refused as a possible zip bomb"
    )]
    UnpackedTooLarge { part: String, max: u64 },

    /// A sheet has more rows than a checklist can have.
    #[error("sheet `{sheet}`: more than {max} rows (row {row} has data)")]
    TooManyRows { sheet: String, row: u32, max: u32 },

    /// A mapping names a sheet the workbook does not have.
    #[error("sheet `{sheet}` is not in the workbook (sheets: {})", .available.join(", "))]
    SheetNotFound {
        sheet: String,
        available: Vec<String>,
    },

    /// A mapping gives something that is not a column letter (A to XFD).
    #[error("sheet `{sheet}`: the {field} column `{column}` is not a column letter (A to XFD)")]
    InvalidColumn {
        sheet: String,
        field: &'static str,
        column: String,
    },

    /// A mapping's first data row is not on the sheet (`last` is the last
    /// row with data, 0 for an empty sheet).
    #[error(
        "sheet `{sheet}`: the first data row {row} is beyond the data (last row with data: {last})"
    )]
    RowBeyondData { sheet: String, row: u32, last: u32 },

    /// The workbook passed the checks but its contents cannot be read.
    #[error("workbook could not be read{}: {message}", sheet_suffix(.sheet.as_deref()))]
    UnreadableWorkbook {
        sheet: Option<String>,
        message: String,
    },

    /// No sheet of the workbook has a checklist header row.
    #[error(
        "no sheet has a checklist header row (番号 and 回答) in its first {rows} rows (sheets: {})",
        .sheets.join(", ")
    )]
    NoChecklistSheet { sheets: Vec<String>, rows: u32 },

    /// A sheet has a checklist header but its items match no form.
    #[error("sheet `{sheet}`: its items match no form of {framework} (forms: {})", .forms.join(", "))]
    UnknownForm {
        sheet: String,
        framework: String,
        forms: Vec<String>,
    },

    /// An upload for a table import that is neither CSV nor `.xlsx`.
    #[error("the file is neither CSV nor an Excel workbook (.xlsx): {reason}")]
    NotATable { reason: String },

    /// A table upload larger than we read.
    #[error("the file is {bytes} bytes; at most {max} are accepted")]
    TableTooLarge { bytes: usize, max: usize },

    /// A CSV file that cannot be read as CSV (line is 1-based).
    #[error("CSV line {line}: {message}")]
    UnreadableCsv { line: u64, message: String },

    /// An imported framework fails the framework's own checks.
    #[error("the imported framework is not valid: {0}")]
    InvalidFramework(String),
}

fn sheet_suffix(sheet: Option<&str>) -> String {
    match sheet {
        Some(sheet) => format!(" (sheet `{sheet}`)"),
        None => String::new(),
    }
}

fn line_suffix(line: Option<usize>) -> String {
    match line {
        Some(line) => format!(" on line {line}"),
        None => String::new(),
    }
}
