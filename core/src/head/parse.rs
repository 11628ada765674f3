//! Complete heads (found by the scanner, or whole in one read) into h1's
//! heads, with the RFC 9112 rules httparse leaves to its caller, and the
//! meaning of each head (from [`semantics`](crate::semantics)).

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Buf, BytesMut};
use http::{StatusCode, Version};

use super::convert::FieldIndex;
use super::fields;
use super::heads::{RequestHead, ResponseHead};
use super::lines::FieldLines;
use super::scan::{find_line_byte, Section};
use super::target::target_form;
use crate::config::{Config, ObsFold};
use crate::error::{Error, LimitError, ProtocolError};
use crate::semantics::{self, Asked, Governing, Reading, RequestMeaning, ResponseMeaning};

/// Field slots on the stack: heads with more use the heap (or, on the
/// whole-head path, go to the scanner).
pub(crate) const STACK_FIELDS: usize = 32;

/// A request head parsed in the buffer, as offsets, with its meaning.
#[derive(Debug)]
pub(crate) struct ParsedRequest {
    /// Bytes from the buffer's start through the empty line.
    pub len: usize,
    /// Where the request line begins (after any empty lines).
    start: usize,
    /// The rest, relative to `start`.
    method: Range<usize>,
    target: Range<usize>,
    fields_at: usize,
    fields: usize,
    version: Version,
    crlf: bool,
    pub meaning: RequestMeaning,
}

impl ParsedRequest {
    /// The head, taken off the front of `buf` (where it was parsed): its
    /// request line and its field lines split off apart, each sharing the
    /// buffer without a copy.
    pub(crate) fn into_head(self, buf: &mut BytesMut) -> (RequestHead, RequestMeaning) {
        buf.advance(self.start);
        let line = buf.split_to(self.fields_at).freeze();
        let fields = buf.split_to(self.len - self.start - self.fields_at).freeze();
        let lines = FieldLines::received(fields, self.fields, self.crlf);
        (
            RequestHead::received(line, self.method, self.target, self.version, lines),
            self.meaning,
        )
    }
}

/// Parses the request head at `buf[start..]` (after any empty lines).
///
/// `whole`: the whole-head path, which takes only a head that is complete
/// and strict as it stands (within the limits, CRLF line ends, HTTP/1.0 or
/// 1.1), and returns `Ok(None)` for anything else, which the scanner then
/// decides. Otherwise `buf` holds exactly one complete head the scanner
/// found (its version already checked).
pub(crate) fn request(
    buf: &[u8],
    start: usize,
    max_fields: usize,
    config: &Config,
    whole: bool,
    index: &mut FieldIndex,
) -> Result<Option<ParsedRequest>, Error> {
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_FIELDS];
    let mut heap = Vec::new();
    let slots = if max_fields <= STACK_FIELDS {
        &mut stack[..max_fields]
    } else {
        heap.resize_with(max_fields, MaybeUninit::uninit);
        &mut heap[..]
    };
    let head = &buf[start..];
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(head, slots) {
        Ok(httparse::Status::Complete(len)) => len,
        _ if whole => return Ok(None),
        Ok(httparse::Status::Partial) => return Err(ProtocolError::InvalidRequestLine.into()),
        Err(e) => return Err(map_httparse(e, true)),
    };
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version) else {
        return Err(ProtocolError::InvalidRequestLine.into());
    };
    let at = offsets(head);
    let (method, target) = (method.as_bytes(), target.as_bytes());
    let target_range = at(target);
    // request-line = method SP request-target SP HTTP-version CRLF
    let line_end = target_range.end + " HTTP/1.1".len();
    let fields_at = line_end + if head.get(line_end) == Some(&b'\r') { 2 } else { 1 };
    if whole && !is_strict(head, len, &target_range, parsed.headers, config) {
        return Ok(None);
    }
    let Some(form) = target_form(method, target) else {
        return Err(ProtocolError::InvalidTarget.into());
    };
    let http10 = minor == 0;
    let gov = governing(parsed.headers, &at, fields_at, len, index);
    let meaning = semantics::received_request(&gov, method, form, http10, Reading::of(config))?;
    Ok(Some(ParsedRequest {
        len: start + len,
        start,
        method: at(method),
        target: target_range,
        fields_at,
        fields: parsed.headers.len(),
        version: if http10 {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        },
        crlf: is_crlf_only(&head[..len], config),
        meaning,
    }))
}

/// The governing fields of a head's field lines, in one pass that also
/// indexes where each line lies (from `fields_at`, where the lines start).
fn governing<'h>(
    fields: &[httparse::Header<'h>],
    at: &impl Fn(&[u8]) -> Range<usize>,
    fields_at: usize,
    head_len: usize,
    index: &mut FieldIndex,
) -> Governing<'h> {
    index.start(fields.len(), head_len);
    let mut gov = Governing::default();
    for field in fields {
        let name = field.name.as_bytes();
        gov.add(name, field.value);
        index.push(at(name), at(field.value), fields_at);
    }
    gov
}

/// Offsets into `base` of slices borrowed from it.
fn offsets(base: &[u8]) -> impl Fn(&[u8]) -> Range<usize> {
    let start = base.as_ptr() as usize;
    move |s: &[u8]| {
        let from = s.as_ptr() as usize - start;
        from..from + s.len()
    }
}

/// Whether a head httparse accepted also meets what httparse leaves to its
/// caller: the limits, and CRLF (never a bare LF) at every line end.
fn is_strict(
    head: &[u8],
    len: usize,
    target: &Range<usize>,
    fields: &[httparse::Header<'_>],
    config: &Config,
) -> bool {
    let limits = &config.limits;
    let crlf_at = |i: usize| head.get(i..i + 2) == Some(b"\r\n");
    let at = offsets(head);
    len <= limits.head_size
        && fields.len() <= limits.header_count
        && target.len() <= limits.request_target
        && crlf_at(target.end + 9)
        && fields.iter().all(|f| {
            let mut end = at(f.value).end;
            while matches!(head.get(end), Some(b' ' | b'\t')) {
                end += 1;
            }
            crlf_at(end)
        })
        && crlf_at(len - 2)
}

/// Whether some LF in `head` has no CR before it.
fn has_bare_lf(head: &[u8]) -> bool {
    head.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
}

/// Checks an `HTTP/x.y` version in place, rewriting a higher HTTP/1 minor
/// version to 1.1 (RFC 9110 section 2.5: process as the highest minor
/// version implemented).
fn normalize_version(v: &mut [u8]) -> Result<(), ProtocolError> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            if *major != b'1' {
                return Err(ProtocolError::UnsupportedVersion);
            }
            if *minor > b'1' {
                *minor = b'1';
            }
            Ok(())
        }
        _ => Err(ProtocolError::InvalidVersion),
    }
}

fn map_httparse(e: httparse::Error, request: bool) -> Error {
    match e {
        httparse::Error::HeaderName => ProtocolError::InvalidFieldName.into(),
        httparse::Error::HeaderValue => ProtocolError::InvalidFieldValue.into(),
        httparse::Error::NewLine => ProtocolError::BareCr.into(),
        httparse::Error::Version => ProtocolError::InvalidVersion.into(),
        httparse::Error::TooManyHeaders => LimitError::HeaderCount.into(),
        _ if request => ProtocolError::InvalidRequestLine.into(),
        _ => ProtocolError::InvalidStatusLine.into(),
    }
}

fn first_line(buf: &[u8]) -> &[u8] {
    &buf[..find_line_byte(buf).unwrap_or(buf.len())]
}

/// Whether every line of `section` ends in CRLF: so unless a bare LF was
/// let through (`Leniency::bare_lf`).
fn is_crlf_only(section: &[u8], config: &Config) -> bool {
    !config.lenient.bare_lf || !has_bare_lf(section)
}

/// Checks the request line of the complete head `buf[start..]` before
/// httparse reads it: the version (rewriting HTTP/1.x above 1.1 to 1.1,
/// answering 505 for another major version) and the method.
pub(crate) fn check_request_line(buf: &mut [u8], start: usize) -> Result<(), Error> {
    let line_len = first_line(&buf[start..]).len();
    let line_end = start + line_len;
    let method_ok = buf[start..line_end]
        .split(|&b| b == b' ')
        .next()
        .is_some_and(fields::is_token);
    if line_len < 8 {
        return Err(ProtocolError::InvalidVersion.into());
    }
    normalize_version(&mut buf[line_end - 8..line_end])?;
    if !method_ok {
        return Err(ProtocolError::InvalidMethod.into());
    }
    Ok(())
}

/// Parses a complete response head (`buf` holds exactly the section the
/// scanner found) answering a request that `asked`.
pub(crate) fn response(
    mut buf: BytesMut,
    section: Section,
    asked: &Asked,
    config: &Config,
    index: &mut FieldIndex,
) -> Result<(ResponseHead, ResponseMeaning), Error> {
    let line_len = first_line(&buf).len();
    if line_len < 8 {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    normalize_version(&mut buf[..8])?;
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if line_len < 13 || buf[8] != b' ' || buf[12] != b' ' {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    let fields_at = line_len + if buf.get(line_len) == Some(&b'\r') { 2 } else { 1 };
    if config.response_obs_fold == ObsFold::Unfold {
        // Folds within the field lines only: a line that starts with
        // whitespace right after the status line is not a fold but an
        // invalid line (RFC 9112 section 2.2), refused below.
        let end = buf.len();
        unfold(&mut buf[fields_at.min(end)..]);
    }
    let head = buf.freeze();
    let (status, http10, meaning, fields) = {
        let mut slots: smallvec::SmallVec<[httparse::Header<'_>; 16]> =
            smallvec::SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(ProtocolError::InvalidStatusLine.into()),
            Err(e) => return Err(map_httparse(e, false)),
        }
        let (Some(code), Some(minor)) = (parsed.code, parsed.version) else {
            return Err(ProtocolError::InvalidStatusLine.into());
        };
        let status = StatusCode::from_u16(code).map_err(|_| ProtocolError::InvalidStatusLine)?;
        let http10 = minor == 0;
        let gov = governing(parsed.headers, &offsets(&head), fields_at, head.len(), index);
        let meaning = semantics::received_response(&gov, status, http10, asked, Reading::of(config))?;
        (status, http10, meaning, parsed.headers.len())
    };
    let crlf = is_crlf_only(&head, config);
    let version = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let reason = head.slice(13..line_len);
    let lines = FieldLines::received(head.slice(fields_at..), fields, crlf);
    Ok((ResponseHead::received(status, reason, version, lines), meaning))
}

/// Replaces each obs-fold (`OWS CRLF RWS`, RFC 9112 section 5.2) with
/// spaces: the CRLF and the whitespace around it all become SP.
fn unfold(fields: &mut [u8]) {
    let mut from = 0;
    // From one CR or LF to the next.
    while let Some(at) = find_line_byte(&fields[from..]) {
        let i = from + at;
        if i + 2 >= fields.len() {
            break;
        }
        if fields[i] == b'\r' && fields[i + 1] == b'\n' && matches!(fields[i + 2], b' ' | b'\t') {
            let mut start = i;
            while start > 0 && matches!(fields[start - 1], b' ' | b'\t') {
                start -= 1;
            }
            let mut end = i + 2;
            while end < fields.len() && matches!(fields[end], b' ' | b'\t') {
                end += 1;
            }
            fields[start..end].fill(b' ');
            from = end;
        } else {
            from = i + 1;
        }
    }
}

/// Parses a complete trailer section (`buf` holds exactly the section,
/// final empty line included).
pub(crate) fn trailers(buf: BytesMut, section: Section, config: &Config) -> Result<FieldLines, Error> {
    let head = buf.freeze();
    let count = {
        let mut slots: smallvec::SmallVec<[httparse::Header<'_>; 8]> =
            smallvec::SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
        match httparse::parse_headers(&head, &mut slots) {
            Ok(httparse::Status::Complete((_, parsed))) => parsed.len(),
            Ok(httparse::Status::Partial) => return Err(ProtocolError::InvalidFieldName.into()),
            Err(e) => return Err(map_httparse(e, true)),
        }
    };
    let crlf = is_crlf_only(&head, config);
    Ok(FieldLines::received(head, count, crlf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolding_replaces_the_fold_and_its_whitespace() {
        let mut v = b"A: x \r\n \t y\r\nB: z\r\n\r\n".to_vec();
        unfold(&mut v);
        assert_eq!(v, b"A: x      y\r\nB: z\r\n\r\n");
    }

    #[test]
    fn bare_lf_detection() {
        assert!(!has_bare_lf(b"a\r\nb\r\n"));
        assert!(has_bare_lf(b"a\nb\r\n"));
        assert!(has_bare_lf(b"\n"));
    }
}
