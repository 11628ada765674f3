//! Field lines as they arrived: [`FieldLines`], the wire view of a header
//! or trailer section.

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use super::fields::{is_token, trim_ows};
use super::scan::find_line_byte;
use crate::error::Misuse;
use crate::semantics::HopByHop;

/// The field lines of a header or trailer section, in the order they
/// arrived, each name in the case the peer sent, duplicates as separate
/// lines: the section exactly as received, backed by the received bytes
/// (no copy).
///
/// Values are read with the optional whitespace around them removed
/// (RFC 9112 section 5.1); an obs-fold that a lenient setting replaced
/// with spaces is part of its line. Names compare without regard to
/// case, as field names do (RFC 9110 section 5.1).
///
/// The same type carries the fields of a head to send: build one with
/// [`append`](Self::append), or take a received one, change it (a proxy
/// calls [`remove_hop_by_hop`](Self::remove_hop_by_hop)) and send it on.
/// Its lines go out in their order and case. Cloning shares the bytes.
///
/// ```
/// let mut fields = h1::FieldLines::new();
/// fields.append("Host", "example.com")?;
/// fields.append("X-Trace", "a")?;
/// fields.append("x-trace", "b")?;
/// let lines: Vec<_> = fields.iter().map(|f| (f.name(), f.value())).collect();
/// assert_eq!(lines, [(&b"Host"[..], &b"example.com"[..]), (b"X-Trace", b"a"), (b"x-trace", b"b")]);
/// assert_eq!(fields.get("HOST"), Some(&b"example.com"[..]));
/// assert_eq!(fields.get_all("x-trace").count(), 2);
/// # Ok::<(), h1::Misuse>(())
/// ```
#[derive(Clone, Default)]
pub struct FieldLines {
    /// The lines, each `name ":" value` ended by CRLF (or by a bare LF
    /// where a lenient setting accepted one), possibly followed by the
    /// empty line that ends a received section.
    bytes: Bytes,
    len: usize,
    /// Every line ends with CRLF, so the lines can be written as they are.
    crlf: bool,
}

impl FieldLines {
    /// No field lines.
    pub fn new() -> Self {
        FieldLines {
            crlf: true,
            ..FieldLines::default()
        }
    }

    /// Lines the parser found valid: `len` field lines in `bytes`.
    pub(crate) fn received(bytes: Bytes, len: usize, crlf: bool) -> Self {
        FieldLines { bytes, len, crlf }
    }

    /// The number of field lines.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no field lines.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The field lines in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { rest: &self.bytes }
    }

    /// The value of the first line named `name` (compared without regard
    /// to case).
    pub fn get(&self, name: impl AsRef<[u8]>) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    /// The values of every line named `name`, in order.
    pub fn get_all(&self, name: impl AsRef<[u8]>) -> impl Iterator<Item = &[u8]> {
        self.iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name.as_ref()))
            .map(|f| f.value)
    }

    /// Whether some line is named `name` (compared without regard to case).
    pub fn contains(&self, name: impl AsRef<[u8]>) -> bool {
        self.get(name).is_some()
    }

    /// Adds a line at the end. `name` must be a token and `value` hold no
    /// CR, LF, NUL or other control byte but HTAB (RFC 9110 section 5);
    /// otherwise nothing changes and [`Misuse::InvalidField`] is returned.
    pub fn append(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), Misuse> {
        let (name, value) = (name.as_ref(), value.as_ref());
        if !is_token(name) || !is_field_value(value) {
            return Err(Misuse::InvalidField);
        }
        let mut buf = self.edit(|_| true);
        buf.reserve(name.len() + value.len() + 4);
        buf.extend_from_slice(name);
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(value);
        buf.extend_from_slice(b"\r\n");
        self.len += 1;
        self.bytes = buf.freeze();
        Ok(())
    }

    /// Removes every line named `name` (compared without regard to case).
    /// Returns how many were removed.
    pub fn remove(&mut self, name: impl AsRef<[u8]>) -> usize {
        let name = name.as_ref();
        self.retain(|f| !f.name.eq_ignore_ascii_case(name))
    }

    /// Removes the hop-by-hop fields (RFC 9110 section 7.6.1), as a proxy
    /// does before forwarding a message: `connection` and every field it
    /// names, `keep-alive`, `proxy-connection`, `te`, `transfer-encoding`,
    /// `upgrade` and `trailer`. Returns how many lines were removed.
    pub fn remove_hop_by_hop(&mut self) -> usize {
        let lines = self.clone();
        let hop = HopByHop::of(lines.iter().map(|f| (f.name, f.value)));
        self.retain(|f| !hop.is_hop_by_hop(f.name))
    }

    /// Removes the fields a trailer section may not carry (framing,
    /// routing and connection control, RFC 9110 section 6.5.1), which
    /// [`Connection::send_trailers`](crate::Connection::send_trailers)
    /// refuses: what a proxy does before forwarding received trailers.
    /// Returns how many lines were removed.
    pub fn remove_non_trailer_fields(&mut self) -> usize {
        self.retain(|f| crate::semantics::is_trailer_field(f.name))
    }

    /// Keeps only the lines `keep` accepts; returns how many were removed.
    fn retain(&mut self, mut keep: impl FnMut(&Field<'_>) -> bool) -> usize {
        let before = self.len;
        if self.iter().all(|f| keep(&f)) {
            return 0;
        }
        let mut kept = 0;
        let buf = self.edit(|f| {
            let k = keep(f);
            kept += usize::from(k);
            k
        });
        self.len = kept;
        self.bytes = buf.freeze();
        before - kept
    }

    /// The lines rewritten for a change: each line `keep` accepts, ended
    /// by CRLF (without the empty line that ends a received section).
    fn edit(&mut self, mut keep: impl FnMut(&Field<'_>) -> bool) -> BytesMut {
        let mut out = BytesMut::with_capacity(self.bytes.len() + 64);
        for line in self.raw_lines() {
            let field = split_line(line);
            if keep(&field) {
                out.extend_from_slice(line);
                out.extend_from_slice(b"\r\n");
            }
        }
        self.crlf = true;
        out
    }

    /// Each line's bytes, without its line end.
    fn raw_lines(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.bytes[..];
        std::iter::from_fn(move || {
            let (line, next) = next_line(rest)?;
            rest = next;
            Some(line)
        })
    }

    /// The bytes of the lines, ended by CRLF each, when they can be
    /// written as they are; `None` when some line ends with a bare LF.
    pub(crate) fn wire(&self) -> Option<&[u8]> {
        if !self.crlf {
            return None;
        }
        let lines = &self.bytes[..];
        // A received section ends with its empty line: not part of the lines.
        Some(match lines {
            b"\r\n" => &[],
            _ if lines.ends_with(b"\r\n\r\n") => &lines[..lines.len() - 2],
            _ => lines,
        })
    }

    /// A `Bytes` for `part`, a slice of these lines' bytes, without a copy.
    pub(crate) fn share(&self, part: &[u8]) -> Bytes {
        let from = part.as_ptr() as usize - self.bytes.as_ptr() as usize;
        self.bytes.slice(from..from + part.len())
    }

    /// The fields as an `http` header map (names lowercased, values as
    /// slices of the received bytes). Fails only where the `http` types
    /// are narrower than HTTP: a name or value longer than they hold.
    pub fn to_header_map(&self) -> Result<HeaderMap, crate::Error> {
        super::convert::header_map(self, self.iter(), None)
    }

    /// The bytes the lines are read from.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

impl From<&HeaderMap> for FieldLines {
    /// The fields of an `http` header map, names lowercase as the map
    /// holds them, in the map's order.
    fn from(map: &HeaderMap) -> Self {
        let mut buf = BytesMut::new();
        for (name, value) in map {
            buf.extend_from_slice(name.as_str().as_bytes());
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(value.as_bytes());
            buf.extend_from_slice(b"\r\n");
        }
        FieldLines {
            bytes: buf.freeze(),
            len: map.len(),
            crlf: true,
        }
    }
}

impl fmt::Debug for FieldLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for FieldLines {
    /// The same lines in the same order, names compared by their bytes.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for FieldLines {}

impl<'a> IntoIterator for &'a FieldLines {
    type Item = Field<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// One field line: its name as sent and its value without the whitespace
/// around it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    name: &'a [u8],
    value: &'a [u8],
}

impl<'a> Field<'a> {
    pub(crate) fn new(name: &'a [u8], value: &'a [u8]) -> Self {
        Field { name, value }
    }

    /// The name, in the case it was sent.
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// The value, without leading or trailing whitespace.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// Whether the name is `name`, compared without regard to case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name.escape_ascii(), self.value.escape_ascii())
    }
}

/// The field lines of a [`FieldLines`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Iter<'a> {
    type Item = Field<'a>;

    /// One pass per line: the name up to its colon (a token holds none),
    /// then the value up to the line's LF (a valid value holds no CR or
    /// LF), without the whitespace around it or the CR before the LF.
    #[inline]
    fn next(&mut self) -> Option<Field<'a>> {
        let bytes = self.rest;
        if matches!(bytes.first(), None | Some(b'\r' | b'\n')) {
            return None;
        }
        let colon = find_byte::<b':'>(bytes).unwrap_or(bytes.len());
        let mut after = bytes.get(colon + 1..).unwrap_or_default();
        while let [b' ' | b'\t', rest @ ..] = after {
            after = rest;
        }
        let lf = find_byte::<b'\n'>(after).unwrap_or(after.len());
        let mut value = &after[..lf];
        while let [rest @ .., b' ' | b'\t' | b'\r'] = value {
            value = rest;
        }
        self.rest = after.get(lf + 1..).unwrap_or_default();
        Some(Field {
            name: &bytes[..colon],
            value,
        })
    }
}

/// The first line of `bytes` (without its line end) and what follows it;
/// `None` at the end or at the empty line that ends a section.
fn next_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = find_line_byte(bytes)?;
    if end == 0 {
        return None;
    }
    let next = if bytes[end] == b'\r' { end + 2 } else { end + 1 };
    Some((&bytes[..end], bytes.get(next..).unwrap_or_default()))
}

/// A valid field line split at its colon (names never hold one).
fn split_line(line: &[u8]) -> Field<'_> {
    let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
    Field {
        name: &line[..colon],
        value: trim_ows(line.get(colon + 1..).unwrap_or_default()),
    }
}

/// Index of the first `B` in `bytes`, eight bytes at a time.
#[inline]
fn find_byte<const B: u8>(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(B);
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(word) ^ pattern;
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == B).map(|j| i + j)
}

/// `field-value` bytes (RFC 9110 section 5.5): visible characters,
/// obs-text, SP and HTAB; no other control byte.
pub(crate) fn is_field_value(value: &[u8]) -> bool {
    value.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(section: &[u8], len: usize, crlf: bool) -> FieldLines {
        FieldLines::received(Bytes::copy_from_slice(section), len, crlf)
    }

    #[test]
    fn received_lines_keep_order_case_and_duplicates() {
        let f = received(b"Host: a\r\nX-Dup:  1 \r\nx-dup:2\r\nEmpty:\r\n\r\n", 4, true);
        let got: Vec<(&[u8], &[u8])> = f.iter().map(|f| (f.name(), f.value())).collect();
        assert_eq!(
            got,
            [
                (&b"Host"[..], &b"a"[..]),
                (b"X-Dup", b"1"),
                (b"x-dup", b"2"),
                (b"Empty", b"")
            ]
        );
        assert_eq!(f.get_all("X-DUP").collect::<Vec<_>>(), [&b"1"[..], b"2"]);
        assert_eq!(
            f.wire(),
            Some(&b"Host: a\r\nX-Dup:  1 \r\nx-dup:2\r\nEmpty:\r\n"[..])
        );
    }

    #[test]
    fn byte_search_agrees_with_a_plain_search() {
        for n in 0..40 {
            let mut v: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(37) | 0x80).collect();
            assert_eq!(find_byte::<b'\n'>(&v), None);
            for at in 0..n {
                v[at] = b'\n';
                assert_eq!(
                    find_byte::<b'\n'>(&v),
                    v.iter().position(|&b| b == b'\n'),
                    "{n} {at}"
                );
                v[at] = b':';
                assert_eq!(
                    find_byte::<b':'>(&v),
                    v.iter().position(|&b| b == b':'),
                    "{n} {at}"
                );
                v[at] = b'\x8a';
            }
        }
    }

    /// The iterator reads each line as the line-at-a-time reading does.
    #[test]
    fn iteration_agrees_with_reading_line_by_line() {
        for section in [
            &b"A: 1\r\nBb:\t two \r\nC:\r\n\r\n"[..],
            b"A: 1\nB:  2\r\n\n",
            b"X-Long: 0123456789012345678901234567890123456789\r\n",
            b"",
        ] {
            let f = received(section, 0, false);
            let mut rest = section;
            let mut want = Vec::new();
            while let Some((line, next)) = next_line(rest) {
                want.push(split_line(line));
                rest = next;
            }
            assert_eq!(f.iter().collect::<Vec<_>>(), want, "{}", section.escape_ascii());
        }
    }

    #[test]
    fn bare_lf_lines_are_read_and_rewritten_with_crlf() {
        let mut f = received(b"A: 1\nB: 2\r\n\n", 2, false);
        assert_eq!(f.iter().count(), 2);
        assert_eq!(f.wire(), None);
        f.append("C", "3").expect("valid");
        assert_eq!(f.wire(), Some(&b"A: 1\r\nB: 2\r\nC: 3\r\n"[..]));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn append_refuses_what_would_break_the_head() {
        let mut f = FieldLines::new();
        for (name, value) in [
            ("bad name", "v"),
            ("", "v"),
            ("a", "x\r\ny: z"),
            ("a", "\0"),
            ("a", "\x7f"),
        ] {
            assert_eq!(
                f.append(name, value),
                Err(Misuse::InvalidField),
                "{name:?} {value:?}"
            );
        }
        assert!(f.is_empty());
        f.append("a", "tab\tand obs-text \u{e9}").expect("valid");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn hop_by_hop_lines_are_removed() {
        let section = b"Host: a\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nTE: trailers\r\nX-Keep: 2\r\n\r\n";
        let mut f = received(section, 5, true);
        assert_eq!(f.remove_hop_by_hop(), 3);
        assert_eq!(f.wire(), Some(&b"Host: a\r\nX-Keep: 2\r\n"[..]));
        assert_eq!(f.remove("x-keep"), 1);
        assert_eq!(f.remove("x-keep"), 0);
        assert_eq!(f.len(), 1);
    }
}
