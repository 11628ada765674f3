//! Incremental scanning of CRLF-terminated lines at the front of the
//! receive buffer.
//!
//! One mechanism serves message heads, trailer sections and chunk-size
//! lines. The scanner remembers how far it has looked, so feeding a
//! section one byte at a time costs linear time, and it checks line ends
//! and limits byte by byte in order, so its verdict is the same however
//! the input was split.

use crate::error::{Error, LimitError, ProtocolError};

/// What kind of section is being scanned, and its limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Largest section, CRLFs included.
    pub max_len: usize,
    /// Most field lines.
    pub max_fields: usize,
    /// The first line is a start line (not counted as a field).
    pub start_line: bool,
    /// Empty lines before the start line are skipped (RFC 9112 section 2.2).
    pub skip_leading_empty: bool,
    /// The section is a single line (a chunk-size line).
    pub single_line: bool,
    /// Measure the request-target on the first line against this limit.
    pub max_target: Option<usize>,
    /// Accept bare LF as a line end.
    pub bare_lf: bool,
    /// The error for exceeding `max_len`.
    pub too_long: LimitError,
}

/// A complete section found at the front of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Section {
    /// Where the section proper begins (after skipped empty lines).
    pub start: usize,
    /// Where the section ends: one past its final line terminator.
    pub end: usize,
    /// Field lines seen (lines, less the start line).
    pub fields: usize,
}

/// Scanner state for one section; reset between sections.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scanner {
    pos: usize,
    line_start: usize,
    start: usize,
    lines: usize,
    first_sp: Option<usize>,
    sp_searched: usize,
}

impl Scanner {
    /// Continues scanning `buf` (which starts at the section start and only
    /// ever grows between calls). Returns the section once it is complete.
    pub(crate) fn scan(&mut self, buf: &[u8], rules: &Rules) -> Result<Option<Section>, Error> {
        if self.trickle(buf, rules.max_len) {
            return Ok(None);
        }
        loop {
            let found = find_line_byte(&buf[self.pos..]).map(|i| self.pos + i);
            let at = found.unwrap_or(buf.len());
            // Everything before `at` is line content examined so far.
            self.check_target(buf, at, rules)?;
            let Some(at) = found else {
                if buf.len() > rules.max_len {
                    return Err(rules.too_long.into());
                }
                self.pos = buf.len();
                return Ok(None);
            };
            if at >= rules.max_len {
                return Err(rules.too_long.into());
            }
            let next = if buf[at] == b'\r' {
                match buf.get(at + 1) {
                    None => {
                        self.pos = at;
                        return Ok(None);
                    }
                    Some(b'\n') => at + 2,
                    Some(_) => return Err(ProtocolError::BareCr.into()),
                }
            } else if rules.bare_lf {
                at + 1
            } else {
                return Err(ProtocolError::BareLf.into());
            };
            if next > rules.max_len {
                return Err(rules.too_long.into());
            }
            let empty = at == self.line_start;
            self.pos = next;
            self.line_start = next;
            if empty && !rules.single_line {
                if rules.skip_leading_empty && self.lines == 0 {
                    self.start = next;
                    continue;
                }
                return Ok(Some(self.section(next, rules)));
            }
            self.lines += 1;
            let section = self.section(next, rules);
            if section.fields > rules.max_fields {
                return Err(LimitError::HeaderCount.into());
            }
            if rules.single_line {
                return Ok(Some(section));
            }
        }
    }

    /// The case of a slow peer, decided cheaply: a few more bytes of a
    /// field line, no line end among them, within `max_len`. Takes them in
    /// and returns true when that is so; [`scan`](Self::scan) would decide
    /// the same (past the first line there is no target to measure), at
    /// more cost per call. Otherwise changes nothing.
    #[inline]
    pub(crate) fn trickle(&mut self, buf: &[u8], max_len: usize) -> bool {
        let len = buf.len();
        // 1 to 7 new bytes (the subtraction wraps when there are none).
        if len.wrapping_sub(self.pos).wrapping_sub(1) >= 7 || self.lines == 0 || len > max_len {
            return false;
        }
        for &b in &buf[self.pos..] {
            if b == b'\r' || b == b'\n' {
                return false;
            }
        }
        self.pos = len;
        true
    }

    /// Whether nothing of a section has been scanned yet.
    pub(crate) fn is_fresh(&self) -> bool {
        self.pos == 0
    }

    fn section(&self, end: usize, rules: &Rules) -> Section {
        Section {
            start: self.start,
            end,
            fields: self.lines.saturating_sub(usize::from(rules.start_line)),
        }
    }

    /// Request-target limit, checked on the first line as it grows. The
    /// content after the first SP, capped at `max_len`, less `" HTTP/1.1"`.
    fn check_target(&mut self, buf: &[u8], content_end: usize, rules: &Rules) -> Result<(), Error> {
        let Some(max_target) = rules.max_target else {
            return Ok(());
        };
        if self.lines > 0 {
            return Ok(());
        }
        let end = content_end.min(rules.max_len).min(buf.len());
        if self.first_sp.is_none() {
            let from = self.sp_searched.max(self.start);
            if from < end {
                self.first_sp = buf[from..end].iter().position(|&b| b == b' ').map(|i| from + i);
                self.sp_searched = end;
            }
        }
        if let Some(sp) = self.first_sp {
            if end.saturating_sub(sp + 1) > max_target + " HTTP/1.1".len() {
                return Err(LimitError::RequestTarget.into());
            }
        }
        Ok(())
    }
}

/// Index of the first CR or LF in `bytes`.
#[inline]
pub(crate) fn find_line_byte(bytes: &[u8]) -> Option<usize> {
    // Eight bytes at a time: a word has a CR or LF when some byte XORed
    // with the pattern is zero.
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const CR: u64 = LO * b'\r' as u64;
    const LF: u64 = LO * b'\n' as u64;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let (a, b) = (w ^ CR, w ^ LF);
        let zero = (a.wrapping_sub(LO) & !a | b.wrapping_sub(LO) & !b) & HI;
        if zero != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|j| i + j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_rules() -> Rules {
        Rules {
            max_len: 64,
            max_fields: 3,
            start_line: true,
            skip_leading_empty: true,
            single_line: false,
            max_target: Some(16),
            bare_lf: false,
            too_long: LimitError::HeadSize,
        }
    }

    fn scan_split(input: &[u8], rules: &Rules, step: usize) -> Result<Option<Section>, Error> {
        let mut s = Scanner::default();
        let mut end = 0;
        loop {
            end = (end + step).min(input.len());
            if let Some(sec) = s.scan(&input[..end], rules)? {
                return Ok(Some(sec));
            }
            if end == input.len() {
                return Ok(None);
            }
        }
    }

    fn verdict(input: &[u8], rules: &Rules) -> Result<Option<Section>, Error> {
        let whole = scan_split(input, rules, input.len().max(1));
        for step in 1..8 {
            assert_eq!(scan_split(input, rules, step), whole, "step {step} on {input:?}");
        }
        whole
    }

    #[test]
    fn finds_line_bytes_past_the_word_loop() {
        for n in 0..40 {
            let mut v = vec![b'a'; n];
            assert_eq!(find_line_byte(&v), None);
            v.push(b'\n');
            assert_eq!(find_line_byte(&v), Some(n));
            v[n] = b'\r';
            assert_eq!(find_line_byte(&v), Some(n));
        }
        assert_eq!(find_line_byte(b"\x8d\x8a\x0e\x0dx"), Some(3));
    }

    #[test]
    fn table() {
        use LimitError::*;
        use ProtocolError::*;
        let r = head_rules();
        let ok = |start, end, fields| Ok(Some(Section { start, end, fields }));
        let cases: &[(&[u8], Result<Option<Section>, Error>)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", ok(0, 18, 0)),
            (b"GET / HTTP/1.1\r\nA: b\r\n\r\n", ok(0, 24, 1)),
            (b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", ok(4, 22, 0)),
            (b"GET / HTTP/1.1\r\nA: b\r\n", Ok(None)),
            (b"GET / HTTP/1.1\r", Ok(None)),
            (b"GET / HTTP/1.1\n\n", Err(BareLf.into())),
            (b"GET / HTTP/1.1\r\nA: b\n\r\n", Err(BareLf.into())),
            (b"GET / HTTP/1.1\rX\n\r\n", Err(BareCr.into())),
            (
                b"GET / HTTP/1.1\r\na:1\r\nb:2\r\nc:3\r\nd:4\r\n\r\n",
                Err(HeaderCount.into()),
            ),
            (
                b"GET /0123456789abcdefghijklmnop HTTP/1.1\r\n\r\n",
                Err(RequestTarget.into()),
            ),
            (b"GET /0123456789abcde HTTP/1.1\r\n\r\n", ok(0, 33, 0)),
            (
                b"GET /0123456789abcdef HTTP/1.1\r\n\r\n",
                Err(RequestTarget.into()),
            ),
            (&[b'x'; 65], Err(HeadSize.into())),
            (&[b'x'; 64], Ok(None)),
        ];
        for (input, want) in cases {
            assert_eq!(&verdict(input, &r), want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn lenient_bare_lf_and_single_line() {
        let mut r = head_rules();
        r.bare_lf = true;
        let got = verdict(b"GET / HTTP/1.1\nA: b\n\n", &r);
        assert_eq!(
            got,
            Ok(Some(Section {
                start: 0,
                end: 21,
                fields: 1
            }))
        );
        let line = Rules {
            single_line: true,
            start_line: false,
            skip_leading_empty: false,
            max_target: None,
            ..head_rules()
        };
        assert_eq!(
            verdict(b"5;a=b\r\nhello", &line),
            Ok(Some(Section {
                start: 0,
                end: 7,
                fields: 1
            }))
        );
    }
}
