//! Errors, split by origin: the peer broke the protocol, a limit was
//! exceeded, the input ended mid-message, a deadline passed, or the caller
//! misused the API.
//!
//! Receive-side errors are sticky: once [`Connection::poll_event`]
//! returned one, it returns the same error again. A server can still write
//! its error response (see [`Error::status`]).
//!
//! [`Connection::poll_event`]: crate::Connection::poll_event

use std::fmt;

use http::StatusCode;

use crate::TimerKind;

/// Everything that can go wrong on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent something RFC 9110/9112 forbids.
    Protocol(ProtocolError),
    /// The peer sent more than a configured [`Limits`](crate::Limits) allows.
    Limit(LimitError),
    /// The input ended in the middle of a message.
    Incomplete(Incomplete),
    /// A deadline the connection asked for passed (see [`Timer`](crate::Timer)).
    Timeout(TimerKind),
    /// The caller used the API in a way that would break the protocol.
    Misuse(Misuse),
}

impl Error {
    /// The status a server should answer with, or `None` when no answer
    /// makes sense (the caller's own mistake).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Protocol(e) => Some(e.status()),
            Error::Limit(e) => Some(e.status()),
            Error::Incomplete(_) => Some(StatusCode::BAD_REQUEST),
            Error::Timeout(_) => Some(StatusCode::REQUEST_TIMEOUT),
            Error::Misuse(_) => None,
        }
    }

    /// Whether the peer caused this error (everything but [`Error::Misuse`]).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Error::Misuse(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Limit(e) => write!(f, "limit exceeded: {e}"),
            Error::Incomplete(e) => write!(f, "incomplete message: {e}"),
            Error::Timeout(k) => write!(f, "timed out: {k}"),
            Error::Misuse(e) => write!(f, "api misuse: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Limit(e) => Some(e),
            Error::Incomplete(e) => Some(e),
            Error::Misuse(e) => Some(e),
            Error::Timeout(_) => None,
        }
    }
}

impl std::error::Error for ProtocolError {}
impl std::error::Error for LimitError {}
impl std::error::Error for Incomplete {}
impl std::error::Error for Misuse {}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}
impl From<LimitError> for Error {
    fn from(e: LimitError) -> Self {
        Error::Limit(e)
    }
}
impl From<Incomplete> for Error {
    fn from(e: Incomplete) -> Self {
        Error::Incomplete(e)
    }
}
impl From<Misuse> for Error {
    fn from(e: Misuse) -> Self {
        Error::Misuse(e)
    }
}

/// What the peer got wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A line ended with LF alone (RFC 9112 section 2.2).
    BareLf,
    /// A CR not followed by LF (RFC 9112 section 2.2).
    BareCr,
    /// The method is not a token.
    InvalidMethod,
    /// The request line is not `method SP request-target SP HTTP-version`.
    InvalidRequestLine,
    /// The request-target is not a valid URI, or not in a form its method
    /// allows (authority-form only for CONNECT, `*` only for OPTIONS).
    InvalidTarget,
    /// The HTTP-version is malformed.
    InvalidVersion,
    /// The HTTP major version is not 1 (answer 505).
    UnsupportedVersion,
    /// The status line is malformed.
    InvalidStatusLine,
    /// A field name is not a token, has whitespace before its colon, or a
    /// line is not a field line at all (including obs-fold).
    InvalidFieldName,
    /// A field value has a forbidden byte (such as NUL or DEL).
    InvalidFieldValue,
    /// An HTTP/1.1 request without Host.
    MissingHost,
    /// More than one Host field line.
    MultipleHost,
    /// A Host value that is not `uri-host [":" port]`.
    InvalidHost,
    /// A Content-Length that is not one decimal number that fits in 64 bits.
    InvalidContentLength,
    /// Both Content-Length and Transfer-Encoding.
    ContentLengthAndTransferEncoding,
    /// A Transfer-Encoding that is not a list of tokens, or applies chunked
    /// more than once or not last.
    InvalidTransferEncoding,
    /// A transfer coding other than chunked in a request (answer 501).
    UnsupportedTransferCoding,
    /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 section 6.1).
    TransferEncodingInHttp10,
    /// A chunk size that is not hex digits, or overflows 64 bits.
    InvalidChunkSize,
    /// A chunk extension that does not follow the grammar.
    InvalidChunkExtension,
    /// Chunk data not followed by CRLF.
    MissingChunkCrlf,
    /// Bytes arrived while no request was waiting for a response.
    UnsolicitedResponse,
    /// A 101 response to a request that did not ask to upgrade, or that
    /// names no protocol the request offered (RFC 9110 section 7.8).
    UnexpectedSwitch,
    /// A CONNECT request that declares content (RFC 9110 section 9.3.6: it
    /// has none; what follows its head belongs to the tunnel).
    ConnectWithContent,
}

impl ProtocolError {
    /// The status a server should answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            ProtocolError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ProtocolError::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolError::BareLf => "line ends with a bare LF",
            ProtocolError::BareCr => "CR not followed by LF",
            ProtocolError::InvalidMethod => "method is not a token",
            ProtocolError::InvalidRequestLine => "malformed request line",
            ProtocolError::InvalidTarget => "invalid request-target for its method",
            ProtocolError::InvalidVersion => "malformed HTTP version",
            ProtocolError::UnsupportedVersion => "HTTP major version is not 1",
            ProtocolError::InvalidStatusLine => "malformed status line",
            ProtocolError::InvalidFieldName => "invalid field line or field name",
            ProtocolError::InvalidFieldValue => "invalid byte in a field value",
            ProtocolError::MissingHost => "HTTP/1.1 request without host",
            ProtocolError::MultipleHost => "more than one host field",
            ProtocolError::InvalidHost => "invalid host value",
            ProtocolError::InvalidContentLength => "invalid content-length",
            ProtocolError::ContentLengthAndTransferEncoding => "both content-length and transfer-encoding",
            ProtocolError::InvalidTransferEncoding => "invalid transfer-encoding",
            ProtocolError::UnsupportedTransferCoding => "unsupported transfer coding",
            ProtocolError::TransferEncodingInHttp10 => "transfer-encoding in an HTTP/1.0 message",
            ProtocolError::InvalidChunkSize => "invalid chunk size",
            ProtocolError::InvalidChunkExtension => "invalid chunk extension",
            ProtocolError::MissingChunkCrlf => "chunk data not followed by CRLF",
            ProtocolError::UnsolicitedResponse => "response received with no request in flight",
            ProtocolError::UnexpectedSwitch => "101 response to a request that did not offer its protocol",
            ProtocolError::ConnectWithContent => "CONNECT request with content",
        })
    }
}

/// Which configured limit the peer exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitError {
    /// [`Limits::head_size`](crate::Limits::head_size).
    HeadSize,
    /// [`Limits::header_count`](crate::Limits::header_count).
    HeaderCount,
    /// [`Limits::request_target`](crate::Limits::request_target).
    RequestTarget,
    /// [`Limits::chunk_line`](crate::Limits::chunk_line).
    ChunkLine,
    /// [`Limits::chunk_extensions`](crate::Limits::chunk_extensions).
    ChunkExtensions,
    /// [`Limits::trailer_size`](crate::Limits::trailer_size).
    TrailerSize,
    /// [`Limits::body_size`](crate::Limits::body_size).
    BodySize,
}

impl LimitError {
    /// The status a server should answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            LimitError::HeadSize | LimitError::HeaderCount | LimitError::TrailerSize => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            LimitError::RequestTarget => StatusCode::URI_TOO_LONG,
            LimitError::BodySize => StatusCode::PAYLOAD_TOO_LARGE,
            LimitError::ChunkLine | LimitError::ChunkExtensions => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitError::HeadSize => "message head too large",
            LimitError::HeaderCount => "too many field lines",
            LimitError::RequestTarget => "request-target too long",
            LimitError::ChunkLine => "chunk-size line too long",
            LimitError::ChunkExtensions => "too many chunk-extension bytes",
            LimitError::TrailerSize => "trailer section too large",
            LimitError::BodySize => "body too large",
        })
    }
}

/// What was cut short by the end of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incomplete {
    /// A message head had started.
    Head,
    /// A body had `remaining` of its declared bytes still to come.
    Body {
        /// Bytes still expected.
        remaining: u64,
    },
    /// A chunked body had not reached its last chunk and trailer section.
    ChunkedBody,
    /// Client: the server closed with requests still unanswered.
    NoResponse,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incomplete::Head => f.write_str("input ended inside a message head"),
            Incomplete::Body { remaining } => {
                write!(f, "input ended with {remaining} body bytes missing")
            }
            Incomplete::ChunkedBody => f.write_str("input ended inside a chunked body"),
            Incomplete::NoResponse => f.write_str("input ended with requests unanswered"),
        }
    }
}

/// How the caller misused the API. Each variant names the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// `send_request` on a server connection or `send_response` on a client one.
    WrongRole,
    /// The call is not allowed in the connection's current state.
    WrongState {
        /// The method that was called.
        call: &'static str,
        /// Our side's state at the time.
        state: crate::State,
    },
    /// A server called `send_response` with no request to answer.
    NoRequestToAnswer,
    /// More body bytes than the declared Content-Length.
    BodyTooLong {
        /// The declared length.
        declared: u64,
    },
    /// `send_end` before the declared Content-Length was sent.
    BodyTooShort {
        /// Bytes still owed.
        remaining: u64,
    },
    /// Body bytes for a message that has none (HEAD response, 1xx, 204,
    /// 304, 2xx to CONNECT, or a request without Content-Length or chunked
    /// Transfer-Encoding).
    BodyNotAllowed,
    /// A field value holding CR, LF or NUL, or a field name that is empty.
    InvalidField,
    /// A Content-Length that is not one decimal number, or one given for a
    /// status that must not carry it (1xx, 204, 2xx to CONNECT).
    InvalidContentLength,
    /// A Transfer-Encoding whose last coding is not chunked, or one sent to
    /// or in HTTP/1.0, or with Content-Length, or for a bodiless status.
    InvalidTransferEncoding,
    /// Trailers need a chunked body.
    TrailersNeedChunked,
    /// An HTTP/1.1 request needs a Host field or a URI with an authority.
    MissingHost,
    /// CONNECT needs a URI with an authority (`host:port`).
    ConnectWithoutAuthority,
    /// A request-target that is not in the form its method takes (RFC 9112
    /// section 3.2): origin- or absolute-form, `*` for OPTIONS only.
    InvalidTarget,
    /// A method that is not a token.
    InvalidMethod,
    /// More than one Host field, or a Host (given or taken from the URI)
    /// that is not `uri-host [":" port]`.
    InvalidHost,
    /// 1xx responses must not be sent to HTTP/1.0 clients.
    InformationalToHttp10,
    /// A 101 answers only a request that asked to upgrade.
    SwitchNotRequested,
    /// A switch (101, or 2xx to CONNECT) before the request body was received.
    SwitchBeforeRequestBody,
    /// A status code outside 100..=999 or a final response that is a 1xx.
    InvalidStatus,
    /// Input after end of input was signalled.
    InputAfterEof,
    /// Input after the connection switched protocols: the bytes belong to
    /// the new protocol.
    InputAfterSwitch,
    /// An Upgrade field without the `upgrade` connection option (RFC 9110
    /// section 7.8: a sender of Upgrade MUST also send it).
    UpgradeWithoutConnection,
    /// A TE field without the `TE` connection option (RFC 9110 section
    /// 10.1.4: a sender of TE MUST also send it).
    TeWithoutConnection,
    /// `Expect: 100-continue` on a request without content (RFC 9110
    /// section 10.1.1: a client MUST NOT send it).
    ExpectWithoutContent,
    /// A 101 whose Upgrade field names a protocol the request did not
    /// offer, or none (RFC 9110 section 7.8).
    SwitchToUnofferedProtocol,
    /// A reason phrase with a control byte other than HTAB (RFC 9112
    /// section 4).
    InvalidReason,
    /// A 101 or a 426 without an Upgrade field naming the protocols (RFC
    /// 9110 sections 15.2.2 and 15.5.22).
    MissingUpgrade,
    /// `chunked` in a TE field (RFC 9112 section 7.4: a client MUST NOT
    /// send it; chunked is always acceptable).
    ChunkedInTe,
    /// A trailer field that must not be sent in a trailer section
    /// (framing, routing or connection control: RFC 9110 section 6.5.1).
    InvalidTrailer,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::WrongRole => f.write_str("call belongs to the other role"),
            Misuse::WrongState { call, state } => write!(f, "{call} not allowed in state {state:?}"),
            Misuse::NoRequestToAnswer => f.write_str("no request to answer"),
            Misuse::BodyTooLong { declared } => {
                write!(f, "body longer than its content-length of {declared}")
            }
            Misuse::BodyTooShort { remaining } => {
                write!(f, "send_end with {remaining} content-length bytes unsent")
            }
            Misuse::BodyNotAllowed => f.write_str("this message has no body"),
            Misuse::InvalidField => f.write_str("field holds CR, LF or NUL, or an empty name"),
            Misuse::InvalidContentLength => f.write_str("invalid or forbidden content-length"),
            Misuse::InvalidTransferEncoding => f.write_str("unusable transfer-encoding"),
            Misuse::TrailersNeedChunked => f.write_str("trailers need a chunked body"),
            Misuse::MissingHost => f.write_str("HTTP/1.1 request needs host or an absolute URI"),
            Misuse::ConnectWithoutAuthority => f.write_str("CONNECT needs host:port"),
            Misuse::InvalidTarget => f.write_str("request-target not in a form its method takes"),
            Misuse::InvalidMethod => f.write_str("method is not a token"),
            Misuse::InvalidHost => {
                f.write_str("host must be one uri-host[:port], the target's authority when it names one")
            }
            Misuse::InformationalToHttp10 => f.write_str("1xx response to an HTTP/1.0 client"),
            Misuse::SwitchNotRequested => f.write_str("101 to a request that did not ask to upgrade"),
            Misuse::SwitchBeforeRequestBody => {
                f.write_str("switching protocols before the request body was received")
            }
            Misuse::InvalidStatus => f.write_str("status not usable here"),
            Misuse::InputAfterEof => f.write_str("input after end of input"),
            Misuse::InputAfterSwitch => f.write_str("input after the protocol switch"),
            Misuse::UpgradeWithoutConnection => f.write_str("upgrade without the upgrade connection option"),
            Misuse::TeWithoutConnection => f.write_str("te without the te connection option"),
            Misuse::ExpectWithoutContent => f.write_str("100-continue expected of a request without content"),
            Misuse::SwitchToUnofferedProtocol => f.write_str("101 to a protocol the request did not offer"),
            Misuse::InvalidReason => f.write_str("reason phrase holds a control byte"),
            Misuse::MissingUpgrade => f.write_str("101 or 426 without an upgrade field"),
            Misuse::ChunkedInTe => f.write_str("chunked listed in te"),
            Misuse::InvalidTrailer => f.write_str("field not allowed in a trailer section"),
        }
    }
}
