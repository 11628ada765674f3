//! Complete heads (found by the scanner) into `http` types, with the
//! RFC 9112 rules httparse leaves to its caller.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use smallvec::SmallVec;

use super::fields::{self, Codings, ConnectionOptions};
use super::scan::Section;
use crate::config::Config;
use crate::error::{Error, LimitError, ProtocolError};
use crate::event::ReasonPhrase;

/// How a message body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Runs until the connection closes (responses only).
    CloseDelimited,
}

/// What the connection needs to know about a received request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestInfo {
    pub framing: Framing,
    pub persists: bool,
    pub http10: bool,
    pub upgrade: bool,
    pub connect: bool,
    pub head: bool,
    pub expect_continue: bool,
}

/// What the connection needs to know about a received response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResponseInfo {
    pub status: StatusCode,
    pub framing: Framing,
    pub persists: bool,
}

/// The fields that govern framing and persistence, gathered in one pass.
#[derive(Default)]
struct Governing<'a> {
    content_length: SmallVec<[&'a [u8]; 2]>,
    transfer_encoding: SmallVec<[&'a [u8]; 2]>,
    hosts: SmallVec<[&'a [u8]; 1]>,
    connection: ConnectionOptions,
    upgrade: bool,
    expect_continue: bool,
}

/// Builds the header map from httparse's fields, each value a slice of
/// `head`, and gathers the governing fields.
fn header_map<'a>(
    head: &Bytes,
    parsed: &[httparse::Header<'a>],
) -> Result<(HeaderMap, Governing<'a>), ProtocolError> {
    let mut map = HeaderMap::with_capacity(parsed.len());
    let mut gov = Governing::default();
    for h in parsed {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| ProtocolError::InvalidFieldName)?;
        let value = HeaderValue::from_maybe_shared(head.slice_ref(h.value))
            .map_err(|_| ProtocolError::InvalidFieldValue)?;
        if name == header::CONTENT_LENGTH {
            gov.content_length.push(h.value);
        } else if name == header::TRANSFER_ENCODING {
            gov.transfer_encoding.push(h.value);
        } else if name == header::HOST {
            gov.hosts.push(h.value);
        } else if name == header::CONNECTION {
            gov.connection.add(h.value);
        } else if name == header::UPGRADE {
            gov.upgrade |= !fields::trim_ows(h.value).is_empty();
        } else if name == header::EXPECT {
            gov.expect_continue |= fields::list(h.value).any(|e| e.eq_ignore_ascii_case(b"100-continue"));
        }
        map.append(name, value);
    }
    Ok((map, gov))
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
    let end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    &buf[..end]
}

/// Parses a complete request head. `buf` holds exactly the section.
pub(crate) fn request(
    mut buf: BytesMut,
    section: Section,
    config: &Config,
) -> Result<(Request<()>, RequestInfo), Error> {
    let line_len = first_line(&buf[section.start..]).len();
    let line_end = section.start + line_len;
    let method_ok = buf[section.start..line_end]
        .split(|&b| b == b' ')
        .next()
        .is_some_and(fields::is_token);
    if line_len >= 8 {
        normalize_version(&mut buf[line_end - 8..line_end])?;
    } else {
        return Err(ProtocolError::InvalidVersion.into());
    }
    if !method_ok {
        return Err(ProtocolError::InvalidMethod.into());
    }
    let head = buf.freeze();
    let mut slots: SmallVec<[httparse::Header<'_>; 32]> =
        SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(&head[section.start..]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(ProtocolError::InvalidRequestLine.into()),
        Err(e) => return Err(map_httparse(e, true)),
    }
    let (Some(m), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version) else {
        return Err(ProtocolError::InvalidRequestLine.into());
    };
    let method = Method::from_bytes(m.as_bytes()).map_err(|_| ProtocolError::InvalidMethod)?;
    let http10 = minor == 0;
    let uri = request_target(&method, target.as_bytes(), &head)?;
    let (headers, gov) = header_map(&head, parsed.headers)?;

    match gov.hosts.as_slice() {
        [] if !http10 => return Err(ProtocolError::MissingHost.into()),
        [] => {}
        [host] if fields::is_valid_host(host) => {}
        [_] => return Err(ProtocolError::InvalidHost.into()),
        _ => return Err(ProtocolError::MultipleHost.into()),
    }

    let framing = if !gov.transfer_encoding.is_empty() {
        if http10 {
            return Err(ProtocolError::TransferEncodingInHttp10.into());
        }
        if !gov.content_length.is_empty() {
            return Err(ProtocolError::ContentLengthAndTransferEncoding.into());
        }
        match fields::transfer_codings(gov.transfer_encoding.iter().copied()) {
            Codings::Chunked => Framing::Chunked,
            Codings::ChunkedAfterOthers => return Err(ProtocolError::UnsupportedTransferCoding.into()),
            Codings::NotChunked | Codings::Invalid => {
                return Err(ProtocolError::InvalidTransferEncoding.into())
            }
        }
    } else if !gov.content_length.is_empty() {
        let n = fields::content_length(
            gov.content_length.iter().copied(),
            config.lenient.identical_content_lengths,
        )
        .ok_or(ProtocolError::InvalidContentLength)?;
        if config.limits.body_size.is_some_and(|max| n > max) {
            return Err(LimitError::BodySize.into());
        }
        Framing::Length(n)
    } else {
        Framing::Length(0)
    };

    let info = RequestInfo {
        framing,
        persists: gov.connection.persists(http10),
        http10,
        upgrade: !http10 && gov.upgrade && gov.connection.upgrade,
        connect: method == Method::CONNECT,
        head: method == Method::HEAD,
        expect_continue: !http10 && gov.expect_continue,
    };
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    *req.headers_mut() = headers;
    Ok((req, info))
}

/// The request-target in the form its method allows (RFC 9112 section 3.2).
fn request_target(method: &Method, target: &[u8], head: &Bytes) -> Result<Uri, ProtocolError> {
    let bad = ProtocolError::InvalidTarget;
    let uri = Uri::from_maybe_shared(head.slice_ref(target)).map_err(|_| bad)?;
    if target == b"*" {
        return if method == Method::OPTIONS {
            Ok(uri)
        } else {
            Err(bad)
        };
    }
    if method == Method::CONNECT {
        let authority_only = uri.scheme().is_none()
            && uri
                .path_and_query()
                .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
        return if authority_only && fields::is_valid_authority_form(target) {
            Ok(uri)
        } else {
            Err(bad)
        };
    }
    if target.first() == Some(&b'/') {
        return Ok(uri);
    }
    // absolute-form
    match (uri.scheme(), uri.authority()) {
        (Some(_), Some(a)) if !a.as_str().contains('@') => Ok(uri),
        _ => Err(bad),
    }
}

/// What the client asked, which decides how a response is framed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Asked {
    pub head: bool,
    pub connect: bool,
}

/// Parses a complete response head. `buf` holds exactly the section.
pub(crate) fn response(
    mut buf: BytesMut,
    section: Section,
    asked: Asked,
    config: &Config,
) -> Result<(Response<()>, ResponseInfo), Error> {
    let line_len = first_line(&buf).len();
    if line_len < 8 {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    normalize_version(&mut buf[..8])?;
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if line_len < 13 || buf[8] != b' ' || buf[12] != b' ' {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    if config.lenient.obs_fold_in_responses {
        unfold(&mut buf[line_len..]);
    }
    let head = buf.freeze();
    let mut slots: SmallVec<[httparse::Header<'_>; 32]> =
        SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
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
    let (headers, gov) = header_map(&head, parsed.headers)?;

    let bodiless = status.is_informational()
        || asked.head
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (asked.connect && status.is_success());
    let framing = if bodiless {
        Framing::Length(0)
    } else if !gov.transfer_encoding.is_empty() {
        if http10 {
            return Err(ProtocolError::TransferEncodingInHttp10.into());
        }
        if !gov.content_length.is_empty() {
            return Err(ProtocolError::ContentLengthAndTransferEncoding.into());
        }
        match fields::transfer_codings(gov.transfer_encoding.iter().copied()) {
            Codings::Chunked | Codings::ChunkedAfterOthers => Framing::Chunked,
            Codings::NotChunked => Framing::CloseDelimited,
            Codings::Invalid => return Err(ProtocolError::InvalidTransferEncoding.into()),
        }
    } else if !gov.content_length.is_empty() {
        let n = fields::content_length(
            gov.content_length.iter().copied(),
            config.lenient.identical_content_lengths,
        )
        .ok_or(ProtocolError::InvalidContentLength)?;
        Framing::Length(n)
    } else {
        Framing::CloseDelimited
    };

    let reason = &head[13..line_len];
    let mut res = Response::new(());
    if status.canonical_reason().map(str::as_bytes) != Some(reason) {
        res.extensions_mut()
            .insert(ReasonPhrase(head.slice(13..line_len)));
    }
    *res.status_mut() = status;
    *res.version_mut() = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    *res.headers_mut() = headers;
    let info = ResponseInfo {
        status,
        framing,
        persists: gov.connection.persists(http10) && framing != Framing::CloseDelimited,
    };
    Ok((res, info))
}

/// Replaces each obs-fold (`OWS CRLF RWS`, RFC 9112 section 5.2) with
/// spaces: the CRLF and the whitespace around it all become SP.
fn unfold(fields: &mut [u8]) {
    let mut i = 0;
    while i + 2 < fields.len() {
        if fields[i] == b'\r' && fields[i + 1] == b'\n' && matches!(fields[i + 2], b' ' | b'\t') {
            let mut start = i;
            while start > 0 && fields[start - 1] == b'\t' {
                start -= 1;
            }
            let mut end = i + 2;
            while end < fields.len() && matches!(fields[end], b' ' | b'\t') {
                end += 1;
            }
            fields[start..end].fill(b' ');
            i = end;
        } else {
            i += 1;
        }
    }
}

/// Parses a complete trailer section (`buf` holds exactly the section,
/// final empty line included) into a header map.
pub(crate) fn trailers(buf: BytesMut, section: Section) -> Result<HeaderMap, Error> {
    let head = buf.freeze();
    let mut slots: SmallVec<[httparse::Header<'_>; 8]> =
        SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
    match httparse::parse_headers(&head, &mut slots) {
        Ok(httparse::Status::Complete((_, parsed))) => Ok(header_map(&head, parsed)?.0),
        Ok(httparse::Status::Partial) => Err(ProtocolError::InvalidFieldName.into()),
        Err(e) => Err(map_httparse(e, true)),
    }
}
