//! Writing heads. The connection decides framing and the fields it adds;
//! these functions only serialize and refuse what cannot be serialized.

use bytes::{BufMut, BytesMut};
use http::{HeaderMap, StatusCode};

use crate::error::Misuse;

/// Refuses field values that would break the head: CR, LF or NUL.
pub(crate) fn check_fields(headers: &HeaderMap) -> Result<(), Misuse> {
    for value in headers.values() {
        if value
            .as_bytes()
            .iter()
            .any(|&b| b == b'\r' || b == b'\n' || b == 0)
        {
            return Err(Misuse::InvalidField);
        }
    }
    Ok(())
}

/// Writes `method SP target SP version CRLF`.
pub(crate) fn request_line(dst: &mut BytesMut, method: &[u8], target: &[u8], http10: bool) {
    dst.reserve(method.len() + target.len() + 12);
    dst.put_slice(method);
    dst.put_u8(b' ');
    dst.put_slice(target);
    dst.put_slice(if http10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
}

/// Writes `HTTP/1.1 SP code SP reason CRLF`.
pub(crate) fn status_line(dst: &mut BytesMut, status: StatusCode) {
    let reason = status.canonical_reason().unwrap_or("").as_bytes();
    dst.reserve(15 + reason.len());
    dst.put_slice(b"HTTP/1.1 ");
    dst.put_slice(status.as_str().as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(reason);
    dst.put_slice(b"\r\n");
}

/// Writes the `leading` lines, each field line, then the `trailing` lines,
/// then the empty line.
pub(crate) fn fields(
    dst: &mut BytesMut,
    leading: &[(&[u8], &[u8])],
    headers: &HeaderMap,
    trailing: &[(&[u8], &[u8])],
) {
    for (name, value) in leading {
        field(dst, name, value);
    }
    for (name, value) in headers {
        field(dst, name.as_str().as_bytes(), value.as_bytes());
    }
    for (name, value) in trailing {
        field(dst, name, value);
    }
    dst.put_slice(b"\r\n");
}

fn field(dst: &mut BytesMut, name: &[u8], value: &[u8]) {
    dst.reserve(name.len() + value.len() + 4);
    dst.put_slice(name);
    dst.put_slice(b": ");
    dst.put_slice(value);
    dst.put_slice(b"\r\n");
}
