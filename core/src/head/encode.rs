//! Writing heads. The connection decides framing and the fields it adds
//! (with [`semantics`](crate::semantics)); these functions serialize, and
//! refuse only what cannot be serialized.

use bytes::BytesMut;
use http::{HeaderMap, StatusCode};

use super::lines::FieldLines;

/// The field lines of a message to send, in one of the forms the
/// connection takes them.
#[derive(Clone, Copy, Debug)]
pub enum FieldsRef<'a> {
    /// An `http` header map: names lowercase, no case of their own.
    Map(&'a HeaderMap),
    /// h1's field lines: names in the case they have.
    Lines(&'a FieldLines),
}

impl<'a> FieldsRef<'a> {
    /// Each field line, name and value.
    pub(crate) fn for_each(self, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        match self {
            FieldsRef::Map(map) => {
                for (name, value) in map {
                    f(name.as_str().as_bytes(), value.as_bytes());
                }
            }
            FieldsRef::Lines(lines) => {
                for field in lines {
                    f(field.name(), field.value());
                }
            }
        }
    }

    /// Whether `value`, one of these fields' values, would break the head:
    /// field lines of an h1 head were checked when made; a map's values
    /// can hold anything `HeaderValue` lets through, CR, LF or NUL too.
    pub(crate) fn breaks_head(self, value: &[u8]) -> bool {
        matches!(self, FieldsRef::Map(_)) && value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
    }

    /// Whether there are no field lines.
    pub(crate) fn is_empty(self) -> bool {
        match self {
            FieldsRef::Map(map) => map.is_empty(),
            FieldsRef::Lines(lines) => lines.is_empty(),
        }
    }
}

/// `n` in decimal, written into the end of `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// `n` in lowercase hexadecimal, written into the end of `buf` (a chunk
/// size).
pub(crate) fn hex(mut n: u64, buf: &mut [u8; 16]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Writes `method SP target SP version CRLF`, the target in two pieces.
pub(crate) fn request_line(dst: &mut BytesMut, method: &[u8], target: &[u8], rest: &[u8], http10: bool) {
    dst.reserve(method.len() + target.len() + rest.len() + 12);
    dst.extend_from_slice(method);
    dst.extend_from_slice(b" ");
    dst.extend_from_slice(target);
    dst.extend_from_slice(rest);
    dst.extend_from_slice(if http10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
}

/// Writes `HTTP/1.1 SP code SP reason CRLF`.
pub(crate) fn status_line(dst: &mut BytesMut, status: StatusCode, reason: &[u8]) {
    dst.reserve(15 + reason.len());
    dst.extend_from_slice(b"HTTP/1.1 ");
    dst.extend_from_slice(status.as_str().as_bytes());
    dst.extend_from_slice(b" ");
    dst.extend_from_slice(reason);
    dst.extend_from_slice(b"\r\n");
}

/// The bytes of one field line, `name: value` and its CRLF.
pub(crate) fn field_line_len(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + 4
}

/// Writes the `leading` lines, the field lines, the `trailing` lines, then
/// the empty line. `fields_len` is the length of the field lines as they
/// will be written, when the caller knows it (0 otherwise): room for the
/// whole section is made first. Names without a case of their own (the
/// map's, and the added lines') are title-cased when `title_case`.
pub(crate) fn fields(
    dst: &mut BytesMut,
    fields_len: usize,
    leading: &[(&[u8], &[u8])],
    fields: FieldsRef<'_>,
    trailing: &[(&[u8], &[u8])],
    title_case: bool,
) {
    let others: usize = leading
        .iter()
        .chain(trailing)
        .map(|(name, value)| field_line_len(name, value))
        .sum();
    dst.reserve(fields_len + others + 2);
    for (name, value) in leading {
        field(dst, name, value, title_case);
    }
    match fields {
        FieldsRef::Lines(lines) => match lines.wire() {
            Some(wire) => dst.extend_from_slice(wire),
            None => {
                for f in lines {
                    field(dst, f.name(), f.value(), false);
                }
            }
        },
        FieldsRef::Map(map) => {
            for (name, value) in map {
                field(dst, name.as_str().as_bytes(), value.as_bytes(), title_case);
            }
        }
    }
    for (name, value) in trailing {
        field(dst, name, value, title_case);
    }
    dst.extend_from_slice(b"\r\n");
}

#[inline]
fn field(dst: &mut BytesMut, name: &[u8], value: &[u8], title_case: bool) {
    if title_case {
        let mut upper = true;
        for &b in name {
            dst.extend_from_slice(&[if upper { b.to_ascii_uppercase() } else { b }]);
            upper = b == b'-';
        }
    } else {
        dst.extend_from_slice(name);
    }
    dst.extend_from_slice(b": ");
    dst.extend_from_slice(value);
    dst.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case_capitalizes_each_word() {
        let mut dst = BytesMut::new();
        field(&mut dst, b"content-length", b"5", true);
        field(&mut dst, b"x-a--b", b"", true);
        field(&mut dst, b"te", b"trailers", false);
        assert_eq!(&dst[..], b"Content-Length: 5\r\nX-A--B: \r\nte: trailers\r\n");
    }

    #[test]
    fn hexadecimals() {
        let mut buf = [0u8; 16];
        for n in [0, 9, 10, 255, 4096, u64::MAX] {
            assert_eq!(hex(n, &mut buf), format!("{n:x}").as_bytes());
        }
    }

    #[test]
    fn decimals() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 12345, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
