//! Table headers: the name of the column a value sits in ([`column_name`]), for recognizers
//! that take a header (`ssn`, `Date of birth`, `firmware`) as context.
//!
//! A row's header is the first line of its block — the lines above it with as many separators.
//! Walking up to it costs the rows in between, so while the detector scans a text
//! ([`scoped`]) the blocks found so far are remembered: the next row of a block walks up one
//! line and is done, and a 10 000-row CSV export costs what ten rows would.

use std::cell::RefCell;

/// A run of lines with the same separator count, and the line that heads it.
#[derive(Debug, Clone, Copy)]
struct Block {
    sep: char,
    separators: usize,
    /// The header line (its start is the block's start).
    header: (usize, usize),
    /// The end of the last line known to belong to the block.
    to: usize,
}

/// The blocks found in the text being scanned (identified by address and length; only set
/// while [`scoped`] runs for that text).
#[derive(Debug)]
struct Memo {
    text: (usize, usize),
    blocks: Vec<Block>,
}

thread_local! {
    static MEMO: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// Puts the previous memo back when a scan ends, however it ends.
struct Restore(Option<Memo>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        MEMO.with(|m| *m.borrow_mut() = previous);
    }
}

/// Runs `scan` over `text` with table headers remembered for `text` (and only for it).
pub(crate) fn scoped<R>(text: &str, scan: impl FnOnce() -> R) -> R {
    let memo = Memo { text: (text.as_ptr() as usize, text.len()), blocks: Vec::new() };
    let _restore = Restore(MEMO.with(|m| m.replace(Some(memo))));
    scan()
}

/// The name of the table column `start` is in, lowercased and unquoted: when the line holding
/// `start` is a row of a comma-, semicolon-, tab- or pipe-separated table, the cell in the same
/// position of the first line of its block (every line above it, up to a line with another
/// number of separators). `None` outside a table or on the header line itself.
pub fn column_name(text: &str, start: usize) -> Option<String> {
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text.get(start..)?.find('\n').map_or(text.len(), |i| start + i);
    let line = text.get(line_start..line_end)?;
    let sep =
        [',', '\t', ';', '|'].into_iter().filter(|s| line.contains(*s)).max_by_key(|s| line.matches(*s).count())?;
    let separators = line.matches(sep).count();
    let column = text.get(line_start..start)?.matches(sep).count();
    let (header_start, header_end) = MEMO.with(|m| {
        let mut memo = m.borrow_mut();
        let memo = memo.as_mut().filter(|memo| memo.text == (text.as_ptr() as usize, text.len()));
        header_of(text, (line_start, line_end), sep, separators, memo)
    })?;
    let header = text.get(header_start..header_end)?;
    let cell = header.split(sep).nth(column)?.trim().trim_matches(['"', '\'', '`', '*']).trim();
    (!cell.is_empty() && cell.len() <= 64).then(|| cell.to_lowercase())
}

/// The header line of the row `line`, walking up (and through remembered blocks).
fn header_of(
    text: &str,
    (line_start, line_end): (usize, usize),
    sep: char,
    separators: usize,
    memo: Option<&mut Memo>,
) -> Option<(usize, usize)> {
    let mut blocks = memo.map(|m| &mut m.blocks);
    let (mut header, mut at) = (None, line_start);
    loop {
        let known = blocks.as_deref_mut().and_then(|b| {
            b.iter_mut().find(|b| b.sep == sep && b.separators == separators && b.header.0 <= at && at <= b.to)
        });
        if let Some(block) = known {
            block.to = block.to.max(line_end);
            // The row is the block's header line itself: it has no header.
            return (block.header.0 != line_start).then_some(block.header);
        }
        let Some(above_end) = at.checked_sub(1) else { break };
        let above_start = text.get(..above_end)?.rfind('\n').map_or(0, |i| i + 1);
        if text.get(above_start..above_end)?.matches(sep).count() != separators {
            break;
        }
        (header, at) = (Some((above_start, above_end)), above_start);
    }
    if let (Some(blocks), Some(h)) = (blocks, header) {
        blocks.push(Block { sep, separators, header: h, to: line_end });
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "user,ssn,ip\nann,536-22-8741,62.220.24.210\nbob,545-35-4865,81.2.69.160\n\nx;y\n1;2\n";

    #[test]
    fn cells_are_named_by_their_blocks_first_line() {
        let at = |v: &str| CSV.find(v).unwrap();
        assert_eq!(column_name(CSV, at("545-35")).as_deref(), Some("ssn"));
        assert_eq!(column_name(CSV, at("81.2")).as_deref(), Some("ip"));
        assert_eq!(column_name(CSV, at("ssn")), None, "the header line has no header");
        assert_eq!(column_name(CSV, at("2\n")).as_deref(), Some("y"));
        assert_eq!(column_name("no table here", 3), None);
    }

    #[test]
    fn remembered_blocks_answer_as_the_walk_does() {
        let mut rows = String::from("id,dob,note\n");
        for i in 0..500 {
            rows.push_str(&format!("{i},1970-01-{:02},n\n", i % 28 + 1));
        }
        rows.push_str("a;b\n1;2\n");
        let starts: Vec<usize> = rows.match_indices("1970").map(|(i, _)| i).chain([rows.len() - 2]).collect();
        let walked: Vec<Option<String>> = starts.iter().map(|&s| column_name(&rows, s)).collect();
        let remembered: Vec<Option<String>> = scoped(&rows, || starts.iter().map(|&s| column_name(&rows, s)).collect());
        assert_eq!(walked, remembered);
        assert!(walked[..500].iter().all(|c| c.as_deref() == Some("dob")));
        assert_eq!(walked[500].as_deref(), Some("b"));
        // Out of order, and another text in the same scope, answer the same.
        let other = "h1,h2\nv,w\n";
        scoped(&rows, || {
            assert_eq!(column_name(&rows, starts[400]).as_deref(), Some("dob"));
            assert_eq!(column_name(&rows, starts[3]).as_deref(), Some("dob"));
            assert_eq!(column_name(other, 8).as_deref(), Some("h2"));
        });
    }
}
