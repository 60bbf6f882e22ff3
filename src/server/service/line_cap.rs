//! A reader that refuses lines longer than a cap, so an import never holds one giant line
//! in memory: the CSV parser grows its record buffer to fit a whole record, and a 100 MB
//! file without a newline would otherwise become a 100 MB record.

use std::io::{self, Read};

/// Longest line an import accepts, in bytes (its newline not counted). A line of the
/// legacy export is under 100 bytes.
pub const MAX_LINE_BYTES: usize = 4096;

/// The error a too-long line ends the reading with; its text names the line.
#[derive(Debug, thiserror::Error)]
#[error("line {line} is longer than {cap} bytes")]
pub struct LineTooLong {
    pub line: u64,
    pub cap: usize,
}

/// Passes `inner` through, counting newlines; fails when a line exceeds `cap` bytes.
/// The bytes before the long line are all handed out first, so whatever reads from this
/// sees every complete line before the error.
pub struct LineCap<R> {
    inner: R,
    cap: usize,
    /// Number of the line being read (1-based, counted from where reading started).
    line: u64,
    /// Bytes of that line so far.
    len: usize,
    failed: bool,
}

impl<R: Read> LineCap<R> {
    /// `first_line`: the number of the line `inner` starts at.
    pub fn new(inner: R, cap: usize, first_line: u64) -> Self {
        LineCap {
            inner,
            cap,
            line: first_line,
            len: 0,
            failed: false,
        }
    }

    fn error(&mut self) -> io::Error {
        self.failed = true;
        io::Error::new(
            io::ErrorKind::InvalidData,
            LineTooLong {
                line: self.line,
                cap: self.cap,
            },
        )
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(self.error());
        }
        // Reads go into the caller's buffer, so nothing here grows with the line; bytes
        // read past a long line's cap are dropped, as reading ends there.
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                self.line += 1;
                self.len = 0;
            } else {
                self.len += 1;
                if self.len > self.cap {
                    // Hand out what came before; the next call reports the line.
                    return if i == 0 { Err(self.error()) } else { Ok(i) };
                }
            }
        }
        Ok(n)
    }
}

/// The too-long-line error inside a CSV error, if that is what it is.
pub fn too_long(e: &csv::Error) -> Option<&LineTooLong> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_pass_through_whole() {
        let text = b"a,1\nb,2\nc,3";
        let mut out = Vec::new();
        LineCap::new(&text[..], 8, 1)
            .read_to_end(&mut out)
            .expect("no long line");
        assert_eq!(out, text);
    }

    #[test]
    fn a_long_line_fails_by_number_after_the_lines_before_it() {
        let mut text = b"head\nok\n".to_vec();
        text.extend(std::iter::repeat_n(b'9', 1_000_000));
        text.extend_from_slice(b"\nlast\n");
        let mut reader = LineCap::new(&text[..], 16, 1);
        let mut out = Vec::new();
        let err = reader
            .read_to_end(&mut out)
            .expect_err("line 3 is too long");
        assert_eq!(err.to_string(), "line 3 is longer than 16 bytes");
        // Everything before line 3 and at most the cap of it were handed out.
        assert!(
            out.starts_with(b"head\nok\n") && out.len() <= 8 + 16,
            "{}",
            out.len()
        );
    }

    #[test]
    fn the_csv_reader_reports_the_line_and_never_holds_it() {
        let mut text = b"timestamp,value\n2026-11-21T08:00:00Z,1\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 100_000));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(LineCap::new(&text[..], MAX_LINE_BYTES, 1));
        let mut record = csv::StringRecord::new();
        let mut rows = 0;
        let err = loop {
            match reader.read_record(&mut record) {
                Ok(true) => rows += 1,
                Ok(false) => panic!("the long line was read"),
                Err(e) => break e,
            }
        };
        assert_eq!(rows, 2);
        let long = too_long(&err).expect("the line error");
        assert_eq!(long.to_string(), "line 3 is longer than 4096 bytes");
    }
}
