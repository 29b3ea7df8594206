//! Opening an uploaded workbook safely.
//!
//! An upload is checked as a zip before calamine sees it: its size, the OLE
//! header of a protected workbook or an .xls, the sizes its parts declare and
//! the sizes they really unpack to (a zip may lie about them). Cells are
//! then read one by one into a sparse grid, refusing a sheet as soon as a row
//! past the limit shows up, so a sheet with a cell at XFD1048576 never
//! becomes a dense range of billions of cells, and refusing a sheet whose
//! cells would hold more than [`MAX_UNPACKED`] bytes in memory (thousands of
//! cells naming one long shared string).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Reader, Xlsx};

use crate::DocumentError;

/// Largest upload we read.
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;
/// Largest total the parts of a workbook may unpack to.
pub const MAX_UNPACKED: u64 = 100 * 1024 * 1024;
/// A checklist sheet has a few hundred rows; more is a wrong file.
pub const MAX_ROWS: u32 = 5_000;
/// Bytes a cell takes in the grid besides its text.
const CELL_OVERHEAD: u64 = 64;
/// An .xlsx has a few dozen parts.
const MAX_PARTS: usize = 10_000;

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Refuses what is not a readable, reasonably sized .xlsx.
pub fn check_package(bytes: &[u8]) -> Result<(), DocumentError> {
    if bytes.len() > MAX_UPLOAD {
        return Err(DocumentError::WorkbookTooLarge {
            bytes: bytes.len(),
            max: MAX_UPLOAD,
        });
    }
    if bytes.starts_with(&OLE_MAGIC[..4]) {
        return Err(DocumentError::ProtectedOrLegacyWorkbook);
    }
    if !bytes.starts_with(b"PK") {
        let reason = if bytes.is_empty() {
            "the file is empty".to_owned()
        } else {
            "the file is not a zip archive, which every .xlsx is".to_owned()
        };
        return Err(DocumentError::NotAWorkbook { reason });
    }
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DocumentError::NotAWorkbook {
            reason: format!("the zip archive is damaged: {e}"),
        })?;
    if archive.len() > MAX_PARTS {
        return Err(DocumentError::NotAWorkbook {
            reason: format!("the archive has {} parts", archive.len()),
        });
    }

    // What the parts declare, before unpacking anything.
    let mut declared: u64 = 0;
    let mut has_workbook = false;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|e| DocumentError::NotAWorkbook {
                reason: format!("part {index} of the zip archive is damaged: {e}"),
            })?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        if part.encrypted() {
            return Err(DocumentError::ProtectedOrLegacyWorkbook);
        }
        declared = declared.saturating_add(part.size());
        if declared > MAX_UNPACKED {
            return Err(DocumentError::UnpackedTooLarge {
                part: name,
                max: MAX_UNPACKED,
            });
        }
        if name.starts_with("xl/") && name.ends_with(".bin") && name.contains("workbook") {
            return Err(DocumentError::NotAWorkbook {
                reason: "an .xlsb binary workbook; save it as .xlsx".to_owned(),
            });
        }
        has_workbook |= name == "xl/workbook.xml";
    }
    if !has_workbook {
        return Err(DocumentError::NotAWorkbook {
            reason: "a zip archive without xl/workbook.xml (a Word or other Office file?)"
                .to_owned(),
        });
    }

    // What they really unpack to: a declared size may be a lie.
    let mut unpacked: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    for index in 0..archive.len() {
        let mut part = archive
            .by_index(index)
            .map_err(|e| DocumentError::NotAWorkbook {
                reason: format!("part {index} of the zip archive cannot be unpacked: {e}"),
            })?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        loop {
            let read = part
                .read(&mut buffer)
                .map_err(|e| DocumentError::NotAWorkbook {
                    reason: format!("part `{name}` cannot be unpacked: {e}"),
                })?;
            if read == 0 {
                break;
            }
            unpacked += read as u64;
            if unpacked > MAX_UNPACKED {
                return Err(DocumentError::UnpackedTooLarge {
                    part: name,
                    max: MAX_UNPACKED,
                });
            }
        }
    }
    Ok(())
}

/// A checked workbook, open for reading.
pub struct Book<'a> {
    xlsx: Xlsx<Cursor<&'a [u8]>>,
}

impl<'a> Book<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Book<'a>, DocumentError> {
        check_package(bytes)?;
        let xlsx =
            Xlsx::new(Cursor::new(bytes)).map_err(|e| DocumentError::UnreadableWorkbook {
                sheet: None,
                message: e.to_string(),
            })?;
        Ok(Book { xlsx })
    }

    pub fn sheet_names(&self) -> Vec<String> {
        self.xlsx.sheet_names()
    }

    pub fn is_1904(&self) -> bool {
        self.xlsx.has_1904_epoch()
    }

    /// The cells of a worksheet (chart sheets and the like are empty).
    pub fn grid(&mut self, sheet: &str) -> Result<Grid, DocumentError> {
        let unreadable = |e: calamine::XlsxError| DocumentError::UnreadableWorkbook {
            sheet: Some(sheet.to_owned()),
            message: e.to_string(),
        };
        let mut grid = Grid::default();
        let mut reader = match self.xlsx.worksheet_cells_reader(sheet) {
            Ok(reader) => reader,
            Err(calamine::XlsxError::WorksheetNotFound(_)) => return Ok(grid),
            Err(e) => return Err(unreadable(e)),
        };
        // What the cells hold in memory: a short cell may name a long
        // shared string, and each reference would be a copy of it.
        let mut held: u64 = 0;
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (row, col) = cell.get_position();
            let text_len = match cell.get_value() {
                DataRef::Empty => continue,
                DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
                DataRef::SharedString(s) => s.len(),
                _ => 0,
            };
            if row >= MAX_ROWS {
                return Err(DocumentError::TooManyRows {
                    sheet: sheet.to_owned(),
                    row: row + 1,
                    max: MAX_ROWS,
                });
            }
            held += CELL_OVERHEAD + text_len as u64;
            if held > MAX_UNPACKED {
                return Err(DocumentError::UnpackedTooLarge {
                    part: format!("the cells of sheet `{sheet}`"),
                    max: MAX_UNPACKED,
                });
            }
            let value = Data::from(cell.get_value().clone());
            grid.last_row = Some(grid.last_row.map_or(row, |last| last.max(row)));
            grid.cells.insert((row, col), value);
        }
        Ok(grid)
    }
}

/// The non-empty cells of a sheet, by 0-based (row, column).
#[derive(Default)]
pub struct Grid {
    cells: BTreeMap<(u32, u32), Data>,
    last_row: Option<u32>,
}

static EMPTY: Data = Data::Empty;

impl Grid {
    pub fn get(&self, row: u32, col: u32) -> &Data {
        self.cells.get(&(row, col)).unwrap_or(&EMPTY)
    }

    /// The cell as text, trimmed; numbers as they would be typed.
    pub fn text(&self, row: u32, col: u32) -> String {
        cell_text(self.get(row, col))
    }

    /// 0-based index of the last row with data.
    pub fn last_row(&self) -> Option<u32> {
        self.last_row
    }

    /// The non-empty cells of one row, in column order.
    pub fn row(&self, row: u32) -> impl Iterator<Item = (u32, &Data)> {
        self.cells
            .range((row, 0)..=(row, u32::MAX))
            .map(|((_, col), value)| (*col, value))
    }
}

pub fn cell_text(data: &Data) -> String {
    match data {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        // 1.0 was typed as 1.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(d) => {
            let (y, m, d, ..) = d.to_ymd_hms_milli();
            format!("{y}/{m}/{d}")
        }
        Data::Error(_) | Data::Empty => String::new(),
    }
}
