//! Writing heads. The connection decides framing and the fields it adds;
//! these functions only serialize and refuse what cannot be serialized.

use bytes::BytesMut;
use http::{HeaderMap, StatusCode};

use crate::error::Misuse;

/// Refuses field values that would break the head: CR, LF or NUL.
pub(crate) fn check_fields(headers: &HeaderMap) -> Result<(), Misuse> {
    if headers.values().any(|v| breaks_head(v.as_bytes())) {
        return Err(Misuse::InvalidField);
    }
    Ok(())
}

/// Whether a field value holds a byte that would break the head: CR, LF
/// or NUL.
pub(crate) fn breaks_head(value: &[u8]) -> bool {
    value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
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

/// Writes `method SP target SP version CRLF`.
pub(crate) fn request_line(dst: &mut BytesMut, method: &[u8], target: &[u8], http10: bool) {
    dst.reserve(method.len() + target.len() + 12);
    dst.extend_from_slice(method);
    dst.extend_from_slice(b" ");
    dst.extend_from_slice(target);
    dst.extend_from_slice(if http10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
}

/// Writes `HTTP/1.1 SP code SP reason CRLF`.
pub(crate) fn status_line(dst: &mut BytesMut, status: StatusCode) {
    let reason = status.canonical_reason().unwrap_or("").as_bytes();
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

/// Writes the `leading` lines, each field line, then the `trailing` lines,
/// then the empty line. `headers_len` is the length of the lines of
/// `headers` when the caller knows it (0 otherwise): room for the whole
/// section is made first, so that the lines are copied without further
/// checks for room.
pub(crate) fn fields(
    dst: &mut BytesMut,
    headers_len: usize,
    leading: &[(&[u8], &[u8])],
    headers: &HeaderMap,
    trailing: &[(&[u8], &[u8])],
) {
    let others: usize = leading
        .iter()
        .chain(trailing)
        .map(|(name, value)| field_line_len(name, value))
        .sum();
    dst.reserve(headers_len + others + 2);
    for (name, value) in leading {
        field(dst, name, value);
    }
    for (name, value) in headers {
        field(dst, name.as_str().as_bytes(), value.as_bytes());
    }
    for (name, value) in trailing {
        field(dst, name, value);
    }
    dst.extend_from_slice(b"\r\n");
}

#[inline]
fn field(dst: &mut BytesMut, name: &[u8], value: &[u8]) {
    dst.extend_from_slice(name);
    dst.extend_from_slice(b": ");
    dst.extend_from_slice(value);
    dst.extend_from_slice(b"\r\n");
}
