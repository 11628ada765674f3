//! The heads a connection reports and sends: [`RequestHead`] and
//! [`ResponseHead`], each a wire view of its bytes with `http` types one
//! call away.

use std::fmt;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::{Method, StatusCode, Version};

use super::convert;
use super::lines::FieldLines;
use crate::error::Misuse;

/// A request head as it arrived: the method, the request-target and the
/// field lines exactly as received (see [`FieldLines`]), backed by the
/// received bytes.
///
/// Nothing is built for it but a few offsets; [`into_request`](Self::into_request)
/// (or [`Connection::http_request`](crate::Connection::http_request))
/// makes the `http::Request<()>` when one is wanted: a `HeaderMap`, a
/// `Uri` and the field names and values, which costs more than reading
/// the head did.
///
/// A head can also be built to send, or a received one changed and sent
/// on (a proxy's way): see [`Connection::send_request`](crate::Connection::send_request).
#[derive(Clone)]
pub struct RequestHead {
    /// The request line as received (or, for a head built to send, the
    /// method and target).
    line: Bytes,
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
    fields: FieldLines,
}

impl RequestHead {
    /// A head to send: `method` and `target` (which the connection checks
    /// against the form its method allows when it sends it), HTTP/1.1, no
    /// fields yet. Add them with [`fields_mut`](Self::fields_mut).
    pub fn new(method: Method, target: impl AsRef<[u8]>) -> Self {
        let (method, target) = (method.as_str().as_bytes(), target.as_ref());
        let mut line = BytesMut::with_capacity(method.len() + target.len() + 1);
        line.extend_from_slice(method);
        line.extend_from_slice(b" ");
        line.extend_from_slice(target);
        let len = line.len();
        RequestHead {
            line: line.freeze(),
            method: 0..method.len(),
            target: method.len() + 1..len,
            version: Version::HTTP_11,
            fields: FieldLines::new(),
        }
    }

    /// A received head: `line` holds its request line.
    pub(crate) fn received(
        line: Bytes,
        method: Range<usize>,
        target: Range<usize>,
        version: Version,
        fields: FieldLines,
    ) -> Self {
        RequestHead {
            line,
            method,
            target,
            version,
            fields,
        }
    }

    /// The method, as received (a token, so ASCII).
    pub fn method(&self) -> &[u8] {
        &self.line[self.method.clone()]
    }

    /// Whether the method is `method` (methods are case-sensitive).
    pub fn is_method(&self, method: &Method) -> bool {
        self.method() == method.as_str().as_bytes()
    }

    /// The request-target, byte for byte as received.
    pub fn target(&self) -> &[u8] {
        &self.line[self.target.clone()]
    }

    /// `HTTP/1.1`, or `HTTP/1.0` (a higher HTTP/1 minor version is read as
    /// 1.1, RFC 9110 section 2.5).
    pub fn version(&self) -> Version {
        self.version
    }

    /// Sets the version the head is sent with (`HTTP/1.0` or `HTTP/1.1`).
    /// A proxy forwards with its own version (RFC 9110 section 2.5).
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The field lines, in order, as received.
    pub fn fields(&self) -> &FieldLines {
        &self.fields
    }

    /// The field lines, to change before sending the head on.
    pub fn fields_mut(&mut self) -> &mut FieldLines {
        &mut self.fields
    }

    /// The protocol this request proposes to switch to (RFC 9110 section
    /// 7.8): the first element of its Upgrade field, when it is HTTP/1.1
    /// and its Connection field has the `upgrade` option. (CONNECT is not
    /// an upgrade.)
    pub fn requested_upgrade(&self) -> Option<&[u8]> {
        crate::semantics::requested_upgrade(
            self.fields.iter().map(|f| (f.name(), f.value())),
            self.version == Version::HTTP_10,
        )
    }

    /// The head as an `http::Request<()>`: the method, the target as a
    /// `Uri` (its bytes shared, not copied), the version and the fields
    /// as a `HeaderMap` (names lowercased, values shared). Fails only
    /// where the `http` types are narrower than HTTP (a target longer
    /// than 65,534 bytes, a name longer than 65,535).
    ///
    /// [`Connection::http_request`](crate::Connection::http_request) does
    /// the same for the head the connection reported last, for less.
    pub fn into_request(self) -> Result<http::Request<()>, crate::Error> {
        let headers = self.fields().to_header_map()?;
        convert::request(self, headers)
    }

    /// The target's bytes, shared (for a `Uri` without a copy).
    pub(crate) fn target_bytes(&self) -> Bytes {
        self.line.slice(self.target.clone())
    }
}

impl PartialEq for RequestHead {
    /// The same method, target, version and field lines.
    fn eq(&self, other: &Self) -> bool {
        self.method() == other.method()
            && self.target() == other.target()
            && self.version == other.version
            && self.fields == other.fields
    }
}

impl Eq for RequestHead {}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method().escape_ascii().to_string())
            .field("target", &self.target().escape_ascii().to_string())
            .field("version", &self.version)
            .field("fields", &self.fields)
            .finish()
    }
}

/// A response head as it arrived: the status, the reason phrase and the
/// field lines exactly as received, backed by the received bytes.
///
/// [`into_response`](Self::into_response) makes the `http::Response<()>`
/// when one is wanted. To send, build one with [`new`](Self::new) and
/// [`fields_mut`](Self::fields_mut); a received head sent on keeps its
/// reason phrase and its field lines' order and case.
#[derive(Clone)]
pub struct ResponseHead {
    status: StatusCode,
    /// The reason phrase, as received.
    reason: Bytes,
    version: Version,
    fields: FieldLines,
}

impl ResponseHead {
    /// A head to send with `status`, its canonical reason phrase (empty
    /// for an unregistered code), and no fields yet.
    pub fn new(status: StatusCode) -> Self {
        ResponseHead {
            status,
            reason: Bytes::from_static(status.canonical_reason().unwrap_or("").as_bytes()),
            version: Version::HTTP_11,
            fields: FieldLines::new(),
        }
    }

    /// [`new`](Self::new) with this reason phrase (`*( HTAB / SP / VCHAR
    /// / obs-text )`, RFC 9112 section 4), or [`Misuse::InvalidReason`].
    pub fn with_reason(status: StatusCode, reason: impl AsRef<[u8]>) -> Result<Self, Misuse> {
        let reason = reason.as_ref();
        if !super::lines::is_field_value(reason) {
            return Err(Misuse::InvalidReason);
        }
        let mut head = ResponseHead::new(status);
        head.reason = Bytes::copy_from_slice(reason);
        Ok(head)
    }

    /// A received head.
    pub(crate) fn received(status: StatusCode, reason: Bytes, version: Version, fields: FieldLines) -> Self {
        ResponseHead {
            status,
            reason,
            version,
            fields,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase, byte for byte as received (it may be empty).
    pub fn reason(&self) -> &[u8] {
        &self.reason
    }

    /// `HTTP/1.1`, or `HTTP/1.0` (a higher HTTP/1 minor version is read as
    /// 1.1). Responses are always sent as HTTP/1.1.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The field lines, in order, as received.
    pub fn fields(&self) -> &FieldLines {
        &self.fields
    }

    /// The field lines, to change before sending the head on.
    pub fn fields_mut(&mut self) -> &mut FieldLines {
        &mut self.fields
    }

    /// The head as an `http::Response<()>`: the status, the version, the
    /// fields as a `HeaderMap`, and the reason phrase as a
    /// [`ReasonPhrase`](crate::ReasonPhrase) extension when it differs
    /// from the status code's canonical one.
    ///
    /// [`Connection::http_response`](crate::Connection::http_response)
    /// does the same for the head the connection reported last, for less.
    pub fn into_response(self) -> Result<http::Response<()>, crate::Error> {
        let headers = self.fields().to_header_map()?;
        convert::response(self, headers)
    }

    /// The reason phrase's bytes, shared.
    pub(crate) fn reason_bytes(&self) -> Bytes {
        self.reason.clone()
    }
}

impl PartialEq for ResponseHead {
    /// The same status, reason phrase, version and field lines.
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.reason() == other.reason()
            && self.version == other.version
            && self.fields == other.fields
    }
}

impl Eq for ResponseHead {}

impl fmt::Debug for ResponseHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHead")
            .field("status", &self.status)
            .field("reason", &self.reason().escape_ascii().to_string())
            .field("version", &self.version)
            .field("fields", &self.fields)
            .finish()
    }
}
