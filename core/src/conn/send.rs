//! The sending direction: heads and bodies in, bytes out. The connection
//! chooses and enforces framing ([`semantics`](crate::semantics) decides)
//! and refuses, with nothing queued, what would break the protocol.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use smallvec::SmallVec;

use super::state::{CloseReason, Input, Role, State};
use super::Connection;
use crate::body::encode::Encoder;
use crate::body::Output;
use crate::error::{Error, Misuse};
use crate::event::ReasonPhrase;
use crate::head::encode::{self, FieldsRef};
use crate::head::heads::{RequestHead, ResponseHead};
use crate::head::lines::{is_field_value, FieldLines};
use crate::head::target::{self, target_form, TargetForm};
use crate::semantics::{self, Asked, Framing, Governing, Outgoing};

/// A request head the connection can send: an `http::Request<()>` (its
/// URI's path and query as the target, Host from its authority when the
/// fields have none) or a [`RequestHead`] (its target and field lines as
/// they are). Sealed.
pub trait OutgoingRequest: sealed::Request {}
impl OutgoingRequest for http::Request<()> {}
impl OutgoingRequest for RequestHead {}

/// A response head the connection can send: an `http::Response<()>` (with
/// its [`ReasonPhrase`] extension, if any, as the reason) or a
/// [`ResponseHead`] (its reason phrase and field lines as they are). Sealed.
pub trait OutgoingResponse: sealed::Response {
    /// The status the response carries (a driver decides by it when to
    /// write: a 1xx at once, a switch once the request body is in).
    fn status(&self) -> StatusCode {
        sealed::Response::view(self).status
    }
}
impl OutgoingResponse for http::Response<()> {}
impl OutgoingResponse for ResponseHead {}

/// A trailer section the connection can send: a `HeaderMap` or
/// [`FieldLines`]. Sealed.
pub trait OutgoingFields: sealed::Fields {}
impl OutgoingFields for HeaderMap {}
impl OutgoingFields for FieldLines {}

mod sealed {
    use super::*;

    /// What a request to send consists of.
    pub struct RequestView<'a> {
        pub(crate) method: &'a [u8],
        /// The target as it goes on the request line, after a `/` when
        /// `slash` (an `http` URI with an empty path and a query).
        pub(crate) target: &'a [u8],
        pub(crate) slash: bool,
        pub(crate) version: Version,
        pub(crate) fields: FieldsRef<'a>,
        /// Where Host comes from when the fields have none: the URI's
        /// authority (an `http::Request`); without it, the authority the
        /// target names, if any.
        pub(crate) authority: Option<&'a [u8]>,
    }

    /// What a response to send consists of.
    pub struct ResponseView<'a> {
        pub(crate) status: StatusCode,
        pub(crate) reason: &'a [u8],
        pub(crate) fields: FieldsRef<'a>,
    }

    pub trait Request {
        fn view(&self) -> RequestView<'_>;
    }

    pub trait Response {
        fn view(&self) -> ResponseView<'_>;
    }

    pub trait Fields {
        fn view(&self) -> FieldsRef<'_>;
    }

    impl Request for http::Request<()> {
        fn view(&self) -> RequestView<'_> {
            let uri = self.uri();
            // Host is the authority without any userinfo (RFC 9112 section 3.2).
            let authority = uri.authority().map(|a| {
                a.as_str()
                    .rsplit_once('@')
                    .map_or(a.as_str(), |(_, host)| host)
                    .as_bytes()
            });
            let target = if self.method() == Method::CONNECT {
                authority.unwrap_or_default()
            } else {
                uri.path_and_query().map_or(&b"/"[..], |p| p.as_str().as_bytes())
            };
            RequestView {
                method: self.method().as_str().as_bytes(),
                // An empty path goes out as `/` (RFC 9112 section 3.2.1),
                // also before a query.
                slash: target.first() == Some(&b'?'),
                target,
                version: self.version(),
                fields: FieldsRef::Map(self.headers()),
                authority,
            }
        }
    }

    impl Request for RequestHead {
        fn view(&self) -> RequestView<'_> {
            RequestView {
                method: self.method(),
                target: self.target(),
                slash: false,
                version: self.version(),
                fields: FieldsRef::Lines(self.fields()),
                authority: None,
            }
        }
    }

    impl Response for http::Response<()> {
        fn view(&self) -> ResponseView<'_> {
            let status = self.status();
            let reason = match self.extensions().get::<ReasonPhrase>() {
                Some(r) => &r.0[..],
                None => status.canonical_reason().unwrap_or("").as_bytes(),
            };
            ResponseView {
                status,
                reason,
                fields: FieldsRef::Map(self.headers()),
            }
        }
    }

    impl Response for ResponseHead {
        fn view(&self) -> ResponseView<'_> {
            ResponseView {
                status: self.status(),
                reason: self.reason(),
                fields: FieldsRef::Lines(self.fields()),
            }
        }
    }

    impl Fields for HeaderMap {
        fn view(&self) -> FieldsRef<'_> {
            FieldsRef::Map(self)
        }
    }

    impl Fields for FieldLines {
        fn view(&self) -> FieldsRef<'_> {
            FieldsRef::Lines(self)
        }
    }
}

/// The authority a target of this form names (absolute- or
/// authority-form), without any userinfo: what Host must be (RFC 9112
/// section 3.2).
fn target_authority(form: TargetForm, target: &[u8]) -> Option<&[u8]> {
    match form {
        TargetForm::Authority => Some(target),
        TargetForm::Absolute => {
            let rest = &target[target.iter().position(|&b| b == b':')? + 3..];
            let end = rest
                .iter()
                .position(|&b| b == b'/' || b == b'?')
                .unwrap_or(rest.len());
            let authority = &rest[..end];
            Some(match authority.iter().rposition(|&b| b == b'@') {
                Some(at) => &authority[at + 1..],
                None => authority,
            })
        }
        TargetForm::Origin | TargetForm::Asterisk => None,
    }
}

/// The fields of a message to send, read once: what governs it, whether
/// each value can be written, and how long the lines are.
fn scan_fields(fields: FieldsRef<'_>) -> Result<(Governing<'_>, usize), Misuse> {
    let mut gov = Governing::default();
    let mut len = 0;
    let mut bad = false;
    fields.for_each(|name, value| {
        bad |= fields.breaks_head(value);
        len += encode::field_line_len(name, value);
        gov.add(name, value);
    });
    if bad {
        return Err(Misuse::InvalidField);
    }
    Ok((gov, len))
}

impl Connection {
    /// Client: sends a request head (an `http::Request<()>` or a
    /// [`RequestHead`]). Its body follows with [`send_data`](Self::send_data),
    /// then [`send_end`](Self::send_end) or [`send_trailers`](Self::send_trailers).
    ///
    /// The body is framed by the request's own fields: `content-length`,
    /// or `transfer-encoding` ending in `chunked`; with neither, the
    /// request has no body. The target must have the form its method
    /// takes (RFC 9112 section 3.2). A `host` field is added first when
    /// missing, from the URI's authority (or an absolute- or
    /// authority-form target). With `expect: 100-continue`, the body is
    /// held back until a `100 Continue`, the expect-continue deadline, or
    /// a final response (which drops it: the connection then closes).
    /// Requests may be pipelined: a new one may be sent once the previous
    /// one is complete, before its response arrives, while the connection
    /// persists and no switch is proposed.
    pub fn send_request(&mut self, req: impl OutgoingRequest) -> Result<(), Error> {
        if self.role != Role::Client {
            return Err(Misuse::WrongRole.into());
        }
        if !matches!(self.our_state(), State::Idle | State::MightSwitchProtocol) {
            return Err(self.wrong_state("send_request"));
        }
        let view = sealed::Request::view(&req);
        let method = Method::from_bytes(view.method).map_err(|_| Misuse::InvalidMethod)?;
        // Checked once: the form, then the authority it names, if any.
        let form = (!view.slash)
            .then(|| target_form(view.method, view.target))
            .flatten();
        let target_ok = match view.slash {
            true => target::is_path_and_query(view.target),
            false => form.is_some(),
        };
        if !target_ok {
            return Err(match method {
                Method::CONNECT => Misuse::ConnectWithoutAuthority,
                _ => Misuse::InvalidTarget,
            }
            .into());
        }
        let http10 = view.version == Version::HTTP_10;
        let (gov, lines_len) = scan_fields(view.fields)?;
        let named = form.and_then(|form| target_authority(form, view.target));
        let host = self.request_host(&view, named, &gov, http10)?;
        let (asked, framing, persists) = semantics::outgoing_request(&gov, &method, http10)?;
        let encoder = match framing {
            Some(Framing::Length(n)) => Encoder::Length {
                declared: n,
                remaining: n,
            },
            Some(_) => Encoder::Chunked,
            None => Encoder::Bodiless,
        };
        let expect = asked.expect_continue && encoder != Encoder::Bodiless;
        let close = (!persists).then_some(if http10 {
            CloseReason::Http10
        } else {
            CloseReason::WeAskedClose
        });

        let leading: SmallVec<[(&[u8], &[u8]); 1]> = host.map(|h| (&b"host"[..], h)).into_iter().collect();
        let out = self.output.tail();
        let slash: &[u8] = if view.slash { b"/" } else { b"" };
        encode::request_line(out, view.method, slash, view.target, http10);
        encode::fields(
            out,
            lines_len,
            &leading,
            view.fields,
            &[],
            self.config.title_case_names,
        );
        let accepted = self.machine.request(asked, close);
        debug_assert!(accepted, "our side was Idle");
        if expect {
            self.held = Some(Output::default());
        }
        self.encoder = Some(encoder);
        self.after_send();
        Ok(())
    }

    /// The Host a request gets (RFC 9112 section 3.2, RFC 9110 sections
    /// 4.2.1 and 7.2): `Some` when the connection adds it (first), from the
    /// URI's authority or the authority the target `named`; refuses two,
    /// an invalid one, one that differs from the authority the target
    /// names, and an empty one where the target names none.
    fn request_host<'v>(
        &self,
        view: &sealed::RequestView<'v>,
        named: Option<&'v [u8]>,
        gov: &Governing<'_>,
        http10: bool,
    ) -> Result<Option<&'v [u8]>, Error> {
        let valid =
            |host: &[u8]| target::is_valid_host(host) && (named.is_some() || !target::is_empty_host(host));
        match (gov.hosts.as_slice(), view.authority.or(named)) {
            ([], Some(authority)) if valid(authority) => Ok(Some(authority)),
            ([], None) if http10 => Ok(None),
            ([], None) => Err(Misuse::MissingHost.into()),
            ([given], _) if valid(given) && named.is_none_or(|a| given.eq_ignore_ascii_case(a)) => Ok(None),
            _ => Err(Misuse::InvalidHost.into()),
        }
    }

    /// Server: sends a response head (an `http::Response<()>` or a
    /// [`ResponseHead`]): a 1xx (any number, before the final one), a 101
    /// or 2xx-to-CONNECT that switches protocols, or the final response.
    /// Its body follows with [`send_data`](Self::send_data), then
    /// [`send_end`](Self::send_end) or [`send_trailers`](Self::send_trailers).
    ///
    /// The status line always says HTTP/1.1. The body is framed by
    /// `content-length` when given; otherwise chunked for an HTTP/1.1
    /// client (`transfer-encoding: chunked` is added), or delimited by
    /// closing the connection. Responses to HEAD, and 204 and 304
    /// responses, have no body. `connection: close` (or `keep-alive` for an
    /// HTTP/1.0 client) is added when the connection's fate requires it.
    /// The response may go out before the request body has arrived; the
    /// body is still read afterwards, unless the response closes the
    /// connection.
    ///
    /// After a receive error a server may still send one response (the
    /// error's [`status`](Error::status)); the connection then closes.
    pub fn send_response(&mut self, res: impl OutgoingResponse) -> Result<(), Error> {
        let (asked, answering_error) = self.answering()?;
        self.start_response(sealed::Response::view(&res), None, asked, answering_error)
    }

    /// Server: sends a whole final response in one call: the head, `body`,
    /// and the end of the message.
    ///
    /// Unless `res` declares its own framing, the connection frames the
    /// body with a `content-length` it writes itself (no field value to
    /// build). To a HEAD request the length is announced and the body is
    /// not sent (RFC 9110 section 9.3.2): give it the body a GET would
    /// get. A 204 or 304 response, or a response that switches protocols
    /// (101, 2xx to CONNECT), takes an empty `body`; a 1xx is refused
    /// ([`Misuse::InvalidStatus`]): send it with
    /// [`send_response`](Self::send_response). Everything else is as for
    /// `send_response`, [`send_data`](Self::send_data) and
    /// [`send_end`](Self::send_end) in a row.
    pub fn send_full_response(&mut self, res: impl OutgoingResponse, body: Bytes) -> Result<(), Error> {
        let view = sealed::Response::view(&res);
        let status = view.status;
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Misuse::InvalidStatus.into());
        }
        let (asked, answering_error) = self.answering()?;
        if asked.bodiless(status) && !asked.head && !body.is_empty() {
            return Err(Misuse::BodyNotAllowed.into());
        }
        let head = asked.head;
        self.start_response(view, Some(body.len() as u64), asked, answering_error)?;
        if self.our_state() == State::SwitchedProtocol {
            return Ok(());
        }
        if !head {
            self.send_data(body)?;
        }
        self.send_end()
    }

    /// `send_response`, once [`answering`](Self::answering) said what the
    /// request asked; `full` is the length of the whole body when the
    /// caller gives it at once ([`send_full_response`](Self::send_full_response)).
    fn start_response(
        &mut self,
        view: sealed::ResponseView<'_>,
        full: Option<u64>,
        asked: Asked,
        answering_error: bool,
    ) -> Result<(), Error> {
        let status = view.status;
        if !is_field_value(view.reason) {
            return Err(Misuse::InvalidReason.into());
        }
        if answering_error && (status.is_informational() || asked.switches(status)) {
            return Err(Misuse::InvalidStatus.into());
        }
        let (gov, lines_len) = scan_fields(view.fields)?;
        let title_case = self.config.title_case_names;
        let (declared, persists) = match semantics::outgoing_response(&gov, status, &asked)? {
            Outgoing::Informational => {
                self.write_response_head(&view, lines_len, &[], title_case);
                if let Some(x) = self.machine.current_mut() {
                    x.continue_sent |= status == StatusCode::CONTINUE;
                }
                self.machine.apply(Role::Server, Input::Informational);
                return Ok(());
            }
            Outgoing::Switch => {
                if self.their_state() != State::MightSwitchProtocol {
                    return Err(Misuse::SwitchBeforeRequestBody.into());
                }
                if asked.expect_continue && !self.machine.current().is_some_and(|x| x.continue_sent) {
                    // RFC 9110 section 7.8: a 100 goes before a 101 to a
                    // request that expected it.
                    self.send_response(ResponseHead::new(StatusCode::CONTINUE))?;
                }
                self.write_response_head(&view, lines_len, &[], title_case);
                self.machine.apply(Role::Server, Input::Switch);
                self.after_send();
                return Ok(());
            }
            Outgoing::Final { declared, persists } => (declared, persists),
        };

        // Whether the connection closes after this response, and why.
        let request_unread = self.their_state() == State::SendBody;
        let close = if answering_error {
            Some(CloseReason::Error)
        } else if !persists {
            Some(if asked.http10 {
                CloseReason::Http10
            } else {
                CloseReason::WeAskedClose
            })
        } else if asked.expect_continue
            && request_unread
            && !self.machine.current().is_some_and(|x| x.continue_sent)
        {
            // The client holds its body back for a 100 that never came:
            // it may never send it, so the connection cannot go on.
            Some(CloseReason::UnsentBody)
        } else {
            None
        };
        let closing = close.is_some() || self.close_reason().is_some();
        let bodiless = asked.bodiless(status);
        let date = match &self.date {
            Some((_, value)) if !gov.date => Some(*value),
            _ => None,
        };
        let mut digits = [0u8; 20];
        let mut extra: SmallVec<[(&[u8], &[u8]); 3]> = SmallVec::new();
        let (encoder, close) = match declared {
            _ if bodiless => {
                // HEAD announces the length a GET would have had.
                if let (Some(n), true, None) =
                    (full, asked.head && !semantics::has_no_content(status), declared)
                {
                    extra.push((b"content-length", encode::decimal(n, &mut digits)));
                }
                (Encoder::Bodiless, close)
            }
            Some(Framing::Length(n)) => (length(n), close),
            Some(_) => (Encoder::Chunked, close),
            None => match semantics::chosen_framing(full, &asked, closing) {
                Framing::Length(n) => {
                    extra.push((b"content-length", encode::decimal(n, &mut digits)));
                    (length(n), close)
                }
                Framing::Chunked => {
                    extra.push((b"transfer-encoding", b"chunked"));
                    (Encoder::Chunked, close)
                }
                Framing::CloseDelimited => (
                    Encoder::CloseDelimited,
                    close.or(Some(CloseReason::CloseDelimitedBody)),
                ),
            },
        };
        let closing = close.is_some() || self.close_reason().is_some();
        if closing && !gov.connection.close {
            extra.push((b"connection", b"close"));
        } else if asked.http10 && !closing && !gov.connection.keep_alive {
            extra.push((b"connection", b"keep-alive"));
        }
        if let Some(date) = &date {
            extra.push((b"date", date));
        }
        self.write_response_head(&view, lines_len, &extra, title_case);
        let accepted = self.machine.response(close);
        debug_assert!(accepted, "our side was SendResponse, or Idle answering an error");
        self.encoder = Some(encoder);
        self.after_send();
        Ok(())
    }

    /// Server: what the request being answered asked, and whether the
    /// answer is to an error; refuses a response with nothing to answer.
    fn answering(&self) -> Result<(Asked, bool), Error> {
        if self.role != Role::Server {
            return Err(Misuse::WrongRole.into());
        }
        let answering_error = self.their_state() == State::Error;
        match (self.our_state(), self.machine.current()) {
            (State::SendResponse, Some(x)) => Ok((x.asked.clone(), answering_error)),
            // An error read before any request: nothing was asked.
            (State::Idle, None) if answering_error => Ok((Asked::default(), true)),
            (State::Idle, _) => Err(Misuse::NoRequestToAnswer.into()),
            _ => Err(self.wrong_state("send_response")),
        }
    }

    fn write_response_head(
        &mut self,
        view: &sealed::ResponseView<'_>,
        lines_len: usize,
        extra: &[(&[u8], &[u8])],
        title_case: bool,
    ) {
        let out = self.output.tail();
        encode::status_line(out, view.status, view.reason);
        encode::fields(out, lines_len, &[], view.fields, extra, title_case);
    }

    /// Server: the current time, in seconds since the Unix epoch, for the
    /// `date` field the connection adds to each final response that has
    /// none (RFC 9110 section 6.6.1: a server with a clock must send it).
    /// The core reads no clock: a driver calls this before sending a
    /// response; the field is formatted at most once a second. Without it,
    /// no `date` is added.
    pub fn set_time(&mut self, unix_secs: u64) {
        if self.date.as_ref().is_none_or(|(secs, _)| *secs != unix_secs) {
            self.date = Some((unix_secs, crate::date::imf_fixdate(unix_secs)));
        }
    }

    /// Server: answers a receive error with its suggested status (an empty
    /// body and `connection: close`), if the connection may still answer.
    /// Returns whether a response was queued; the connection then wants to
    /// close once it is written.
    pub fn send_error_response(&mut self, err: &Error) -> bool {
        let Some(status) = err.status() else { return false };
        if self.role != Role::Server || self.their_state() != State::Error {
            return false;
        }
        self.send_full_response(ResponseHead::new(status), Bytes::new())
            .is_ok()
    }

    /// Server: sends `100 Continue` if the current request waits for it
    /// ([`is_continue_expected`](Self::is_continue_expected)). Returns
    /// whether it did.
    pub fn send_continue_if_expected(&mut self) -> Result<bool, Error> {
        if !self.is_continue_expected() {
            return Ok(false);
        }
        self.send_response(ResponseHead::new(StatusCode::CONTINUE))?;
        Ok(true)
    }

    /// Sends body bytes. They are queued as they are (chunk framing is
    /// added around them), without a copy; a piece shorter than 512 bytes
    /// is copied next to the bytes before it instead.
    ///
    /// Refused with [`Misuse::WrongState`] once our side is past its body:
    /// a client whose request body was given up because a response that
    /// closes the connection came first (our state is then `MustClose`:
    /// stop sending, read the response).
    pub fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        let (State::SendBody, Some(encoder)) = (self.our_state(), &mut self.encoder) else {
            return Err(self.wrong_state("send_data"));
        };
        let out = self.held.as_mut().unwrap_or(&mut self.output);
        encoder.data(data, out).map_err(Error::from)
    }

    /// Ends the body with a trailer section (chunked bodies only): a
    /// `HeaderMap` or [`FieldLines`]. Fields that govern framing, routing
    /// or the connection are refused ([`Misuse::InvalidTrailer`]).
    pub fn send_trailers(&mut self, trailers: impl OutgoingFields) -> Result<(), Error> {
        let fields = sealed::Fields::view(&trailers);
        let mut refused = None;
        fields.for_each(|name, value| {
            if !semantics::is_trailer_field(name) {
                refused = Some(Misuse::InvalidTrailer);
            } else if fields.breaks_head(value) {
                refused = Some(Misuse::InvalidField);
            }
        });
        if let Some(e) = refused {
            return Err(e.into());
        }
        self.finish((!fields.is_empty()).then_some(fields), "send_trailers")
    }

    /// Ends the message. A Content-Length body must be complete.
    pub fn send_end(&mut self) -> Result<(), Error> {
        self.finish(None, "send_end")
    }

    fn finish(&mut self, trailers: Option<FieldsRef<'_>>, call: &'static str) -> Result<(), Error> {
        let (State::SendBody, Some(encoder)) = (self.our_state(), &mut self.encoder) else {
            return Err(self.wrong_state(call));
        };
        let out = self.held.as_mut().unwrap_or(&mut self.output);
        encoder.end(trailers, self.config.title_case_names, out)?;
        self.encoder = None;
        self.machine.apply(self.role, Input::End);
        self.after_send();
        Ok(())
    }

    fn wrong_state(&self, call: &'static str) -> Error {
        Misuse::WrongState {
            call,
            state: self.our_state(),
        }
        .into()
    }

    // ---- output ----------------------------------------------------------

    /// The next piece of output to write, if any: body bytes as they were
    /// handed in, or a run of heads, framing and short bodies.
    pub fn poll_output(&mut self) -> Option<Bytes> {
        self.output.pop()
    }

    /// The output waiting to be written, in order, for a vectored write.
    /// Call [`advance_output`](Self::advance_output) with what was written.
    pub fn output_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.output.chunks()
    }

    /// Drops the first `n` bytes of output: they were written.
    pub fn advance_output(&mut self, n: usize) {
        self.output.advance(n);
    }

    /// Bytes of output waiting to be written.
    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Drops all pending output (for instance when the peer is gone).
    pub fn clear_output(&mut self) {
        self.output.clear();
    }
}

/// A body of exactly `n` bytes.
fn length(n: u64) -> Encoder {
    Encoder::Length {
        declared: n,
        remaining: n,
    }
}
