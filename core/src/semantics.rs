//! Message semantics, decided once for received and sent messages alike,
//! in both roles: how long a body is (RFC 9112 section 6.3), which
//! responses have none, whether the connection persists (RFC 9112
//! section 9.3), whether a request proposes a protocol switch and which
//! response completes it (RFC 9110 sections 7.8 and 9.3.6), `Expect:
//! 100-continue` (RFC 9110 section 10.1.1), and the hop-by-hop fields a
//! proxy removes (RFC 9110 section 7.6.1).
//!
//! Receiving, sending and the drivers all ask this module; none of them
//! decides these things on its own. Every function here reads the
//! fields of one message through [`Governing`], gathered in one pass.

use bytes::Bytes;
use http::{Method, StatusCode};
use smallvec::SmallVec;

use crate::error::{Misuse, ProtocolError};
use crate::head::fields::{self, Codings, ConnectionOptions};
use crate::head::target::{self, TargetForm};

/// How a message body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    CloseDelimited,
}

/// The fields of one message that govern its semantics, gathered in one
/// pass over its field lines (received or to be sent).
#[derive(Debug, Default)]
pub(crate) struct Governing<'a> {
    pub content_length: SmallVec<[&'a [u8]; 1]>,
    pub transfer_encoding: SmallVec<[&'a [u8]; 1]>,
    pub hosts: SmallVec<[&'a [u8]; 1]>,
    pub connection: ConnectionOptions,
    /// The Upgrade field values.
    pub upgrade: SmallVec<[&'a [u8]; 1]>,
    /// Some Expect field lists `100-continue`.
    pub expect_continue: bool,
    /// A TE field is present.
    pub te: bool,
    /// Some TE field lists `chunked`.
    pub te_chunked: bool,
    /// A Date field is present.
    pub date: bool,
}

impl<'a> Governing<'a> {
    /// Takes note of one field line; `name` in any case.
    #[inline]
    pub(crate) fn add(&mut self, name: &[u8], value: &'a [u8]) {
        // The names that matter, told apart by length and first letter, so
        // that most fields cost one comparison of two bytes.
        let is = |want: &str| name.eq_ignore_ascii_case(want.as_bytes());
        let Some(&first) = name.first() else { return };
        match (name.len(), first | 0x20) {
            (2, b't') if is("te") => {
                self.te = true;
                self.te_chunked |= fields::list(value).any(|c| c.eq_ignore_ascii_case(b"chunked"));
            }
            (4, b'h') if is("host") => self.hosts.push(value),
            (4, b'd') if is("date") => self.date = true,
            (6, b'e') if is("expect") => {
                self.expect_continue |= fields::list(value).any(|e| e.eq_ignore_ascii_case(b"100-continue"));
            }
            (7, b'u') if is("upgrade") => self.upgrade.push(value),
            (10, b'c') if is("connection") => self.connection.add(value),
            (14, b'c') if is("content-length") => self.content_length.push(value),
            (17, b't') if is("transfer-encoding") => self.transfer_encoding.push(value),
            _ => {}
        }
    }

    /// Gathers the governing fields of `lines`.
    pub(crate) fn of(lines: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Self {
        let mut gov = Governing::default();
        for (name, value) in lines {
            gov.add(name, value);
        }
        gov
    }

    /// The protocols the Upgrade fields list, in order; an element that is
    /// not a protocol (`token [ "/" token ]`, RFC 9110 section 7.8) names
    /// none.
    fn upgrade_protocols(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.upgrade
            .iter()
            .flat_map(|v| fields::list(v))
            .filter(|p| is_protocol(p))
    }

    /// The protocols a request offers to switch to, joined by commas,
    /// when it proposes an upgrade (see [`upgrade_proposal`](Self::upgrade_proposal)):
    /// what a 101 may name.
    fn upgrade_offer(&self, http10: bool) -> Option<Bytes> {
        self.upgrade_proposal(http10)?;
        Some(Bytes::from(
            self.upgrade_protocols().collect::<Vec<_>>().join(&b", "[..]),
        ))
    }

    /// The protocol a request proposes to switch to (RFC 9110 section
    /// 7.8): the first element of its Upgrade field, when the request is
    /// HTTP/1.1 and its Connection field has the `upgrade` option (an
    /// HTTP/1.0 request's Upgrade is ignored; an empty list proposes
    /// nothing).
    pub(crate) fn upgrade_proposal(&self, http10: bool) -> Option<&'a [u8]> {
        if http10 || !self.connection.upgrade {
            return None;
        }
        self.upgrade_protocols().next()
    }

    /// What a request with these fields asks (RFC 9110 sections 7.8,
    /// 9.3.2, 9.3.6, 10.1.1).
    fn asked(&self, method: &[u8], http10: bool) -> Asked {
        Asked {
            head: method == b"HEAD",
            connect: method == b"CONNECT",
            upgrade: self.upgrade_offer(http10),
            http10,
            // RFC 9110 section 10.1.1: ignored in HTTP/1.0.
            expect_continue: !http10 && self.expect_continue,
        }
    }

    /// The framing a message we send declares: as [`declared`](Self::declared)
    /// reads it, but never delimited by the close (we only send chunked
    /// last).
    fn declared_to_send(&self, http10: bool) -> Result<Option<Framing>, Misuse> {
        let framing = self.declared(http10, false, false).map_err(misuse)?;
        if framing == Some(Framing::CloseDelimited) {
            return Err(Misuse::InvalidTransferEncoding);
        }
        Ok(framing)
    }

    /// RFC 9110 section 7.8: a sender of Upgrade (request or response)
    /// MUST also send the "upgrade" connection option.
    fn check_upgrade_option(&self) -> Result<(), Misuse> {
        if !self.upgrade.is_empty() && !self.connection.upgrade {
            return Err(Misuse::UpgradeWithoutConnection);
        }
        Ok(())
    }

    /// The body length the framing fields declare, if any: a valid
    /// Transfer-Encoding or Content-Length (RFC 9112 sections 6.1, 6.3
    /// rules 3 to 6, RFC 9110 section 8.6). `Ok(None)`: neither field.
    /// A request may only end in `chunked`; a response whose final coding
    /// is another is read until close (RFC 9112 section 6.3 rule 4).
    fn declared(
        &self,
        http10: bool,
        request: bool,
        identical_lengths: bool,
    ) -> Result<Option<Framing>, ProtocolError> {
        if !self.transfer_encoding.is_empty() {
            if http10 {
                return Err(ProtocolError::TransferEncodingInHttp10);
            }
            if !self.content_length.is_empty() {
                return Err(ProtocolError::ContentLengthAndTransferEncoding);
            }
            return match (
                fields::transfer_codings(self.transfer_encoding.iter().copied()),
                request,
            ) {
                (Codings::Chunked, _) | (Codings::ChunkedAfterOthers, false) => Ok(Some(Framing::Chunked)),
                (Codings::ChunkedAfterOthers, true) => Err(ProtocolError::UnsupportedTransferCoding),
                (Codings::NotChunked, false) => Ok(Some(Framing::CloseDelimited)),
                (Codings::NotChunked | Codings::Invalid, _) => Err(ProtocolError::InvalidTransferEncoding),
            };
        }
        if self.content_length.is_empty() {
            return Ok(None);
        }
        fields::content_length(self.content_length.iter().copied(), identical_lengths)
            .map(|n| Some(Framing::Length(n)))
            .ok_or(ProtocolError::InvalidContentLength)
    }
}

/// What a request asked that decides its response: how that response is
/// framed, and whether it switches protocols.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Asked {
    /// The request is HEAD: its response has no content.
    pub head: bool,
    /// The request is CONNECT: a 2xx answer makes a tunnel.
    pub connect: bool,
    /// The request proposes an upgrade: the protocols its Upgrade field
    /// offered (those that are protocols, joined by commas).
    pub upgrade: Option<Bytes>,
    /// The request is HTTP/1.0.
    pub http10: bool,
    /// The client waits for `100 Continue` before sending its content.
    pub expect_continue: bool,
}

impl Asked {
    /// Whether the request proposes a switch (RFC 9110 sections 7.8, 9.3.6).
    pub(crate) fn proposes_switch(&self) -> bool {
        self.connect || self.upgrade.is_some()
    }

    /// Whether a response with `status` switches protocols: a 101 to an
    /// upgrade proposal, a 2xx to CONNECT.
    pub(crate) fn switches(&self, status: StatusCode) -> bool {
        (status == StatusCode::SWITCHING_PROTOCOLS && self.upgrade.is_some())
            || (self.connect && status.is_success())
    }

    /// Whether a final response with `status` has no content (RFC 9112
    /// section 6.3 rules 1 and 2): to HEAD, 204, 304, a switch.
    pub(crate) fn bodiless(&self, status: StatusCode) -> bool {
        self.head || has_no_content(status) || self.switches(status)
    }
}

/// 1xx, 204 and 304 responses never have content (RFC 9110 sections
/// 15.2, 15.3.5, 15.4.5).
pub(crate) fn has_no_content(status: StatusCode) -> bool {
    status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

/// What a request means for the exchange it starts.
#[derive(Debug)]
pub(crate) struct RequestMeaning {
    pub asked: Asked,
    /// Its body.
    pub framing: Framing,
    /// Whether it lets the connection persist after the exchange.
    pub persists: bool,
}

/// Options that apply while reading.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reading {
    /// Accept a Content-Length listing one value several times.
    pub identical_lengths: bool,
    /// The largest body accepted.
    pub body_size: Option<u64>,
}

impl Reading {
    /// The reading options `config` sets.
    pub(crate) fn of(config: &crate::config::Config) -> Self {
        Reading {
            identical_lengths: config.lenient.identical_content_lengths,
            body_size: config.limits.body_size,
        }
    }
}

/// A received request's meaning (RFC 9112 sections 3.2, 6.1, 6.3 rules 3
/// to 7, 9.3; RFC 9110 sections 7.2, 7.8, 9.3.6, 10.1.1).
pub(crate) fn received_request(
    gov: &Governing<'_>,
    method: &[u8],
    form: TargetForm,
    http10: bool,
    reading: Reading,
) -> Result<RequestMeaning, crate::Error> {
    // RFC 9112 section 3.2: exactly one valid Host in HTTP/1.1; it names
    // the host unless the target does (absolute- and authority-form).
    let target_names_host = matches!(form, TargetForm::Absolute | TargetForm::Authority);
    match gov.hosts.as_slice() {
        [] if !http10 => return Err(ProtocolError::MissingHost.into()),
        [] => {}
        [host] if !target::is_valid_host(host) => return Err(ProtocolError::InvalidHost.into()),
        [host] if target::is_empty_host(host) && !target_names_host => {
            return Err(ProtocolError::InvalidHost.into())
        }
        [_] => {}
        _ => return Err(ProtocolError::MultipleHost.into()),
    }
    let connect = method == b"CONNECT";
    let framing = match gov.declared(http10, true, reading.identical_lengths)? {
        // A CONNECT request has no content (RFC 9110 section 9.3.6): what
        // follows its head belongs to the tunnel. One that declares some
        // would be framed differently by different recipients.
        Some(Framing::Length(n)) if connect && n > 0 => return Err(ProtocolError::ConnectWithContent.into()),
        Some(Framing::Chunked) if connect => return Err(ProtocolError::ConnectWithContent.into()),
        Some(f) => f,
        None => Framing::Length(0),
    };
    within_body_size(framing, reading.body_size)?;
    Ok(RequestMeaning {
        asked: gov.asked(method, http10),
        framing,
        persists: gov.connection.persists(http10),
    })
}

/// A declared length over the body size limit is refused at once.
fn within_body_size(framing: Framing, max: Option<u64>) -> Result<(), crate::Error> {
    match (framing, max) {
        (Framing::Length(n), Some(max)) if n > max => Err(crate::error::LimitError::BodySize.into()),
        _ => Ok(()),
    }
}

/// What a response means for its exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ResponseMeaning {
    /// A 1xx other than a switching 101: the final response follows.
    Informational,
    /// The response switches protocols (a 101 to an upgrade proposal, a
    /// 2xx to CONNECT): the connection leaves HTTP after its head.
    Switch,
    /// A final response with this body; `persists` as RFC 9112 section
    /// 9.3 says (a body delimited by the close never persists).
    Final { framing: Framing, persists: bool },
}

/// A received response's meaning, for the request that `asked`.
pub(crate) fn received_response(
    gov: &Governing<'_>,
    status: StatusCode,
    http10: bool,
    asked: &Asked,
    reading: Reading,
) -> Result<ResponseMeaning, crate::Error> {
    if asked.switches(status) {
        if status == StatusCode::SWITCHING_PROTOCOLS && !offered(asked, gov) {
            return Err(ProtocolError::UnexpectedSwitch.into());
        }
        return Ok(ResponseMeaning::Switch);
    }
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(ProtocolError::UnexpectedSwitch.into());
    }
    if status.is_informational() {
        return Ok(ResponseMeaning::Informational);
    }
    let framing = if asked.bodiless(status) {
        // Framing fields describe what a GET would have had (HEAD, 304),
        // or are ignored (RFC 9112 section 6.3 rules 1 and 2).
        Framing::Length(0)
    } else {
        match gov.declared(http10, false, reading.identical_lengths)? {
            Some(f) => f,
            None => Framing::CloseDelimited,
        }
    };
    within_body_size(framing, reading.body_size)?;
    Ok(ResponseMeaning::Final {
        framing,
        persists: gov.connection.persists(http10) && framing != Framing::CloseDelimited,
    })
}

/// `protocol = protocol-name [ "/" protocol-version ]`, both tokens.
fn is_protocol(p: &[u8]) -> bool {
    p.splitn(2, |&b| b == b'/').all(fields::is_token)
}

/// Whether a 101's Upgrade lists only protocols the request offered
/// (RFC 9110 section 7.8: a server MUST NOT switch to another, and must
/// say which it switches to).
fn offered(asked: &Asked, gov: &Governing<'_>) -> bool {
    let Some(offer) = &asked.upgrade else {
        return false;
    };
    let mut chosen = gov.upgrade.iter().flat_map(|v| fields::list(v)).peekable();
    chosen.peek().is_some()
        && chosen.all(|p| is_protocol(p) && fields::list(offer).any(|o| o.eq_ignore_ascii_case(p)))
}

/// A request we send: what it asks, and the framing its fields declare
/// (`None`: neither framing field, so no body).
pub(crate) fn outgoing_request(
    gov: &Governing<'_>,
    method: &Method,
    http10: bool,
) -> Result<(Asked, Option<Framing>, bool), Misuse> {
    let framing = gov.declared_to_send(http10)?;
    let has_content = framing.is_some_and(|f| f != Framing::Length(0));
    if method == Method::CONNECT && has_content {
        return Err(Misuse::BodyNotAllowed);
    }
    gov.check_upgrade_option()?;
    if gov.te && !gov.connection.te {
        // RFC 9110 section 10.1.4: so must a sender of TE.
        return Err(Misuse::TeWithoutConnection);
    }
    if gov.te_chunked {
        // RFC 9112 section 7.4: a client MUST NOT send chunked in TE.
        return Err(Misuse::ChunkedInTe);
    }
    if gov.expect_continue && !has_content {
        // RFC 9110 section 10.1.1: MUST NOT without content.
        return Err(Misuse::ExpectWithoutContent);
    }
    let asked = gov.asked(method.as_str().as_bytes(), http10);
    Ok((asked, framing, gov.connection.persists(http10)))
}

/// How the response we send answers: informational, a switch, or a
/// final response whose framing the fields declare (`None`: neither
/// framing field, so the connection chooses; see [`chosen_framing`]).
pub(crate) enum Outgoing {
    Informational,
    Switch,
    Final {
        declared: Option<Framing>,
        persists: bool,
    },
}

/// What a response we send means, for the request that `asked`; refuses
/// what RFC 9110/9112 forbid a server to send.
pub(crate) fn outgoing_response(
    gov: &Governing<'_>,
    status: StatusCode,
    asked: &Asked,
) -> Result<Outgoing, Misuse> {
    let informational = status.is_informational();
    if informational || status == StatusCode::NO_CONTENT || asked.switches(status) {
        // RFC 9110 sections 8.6 and 9.3.6, RFC 9112 section 6.1: no framing
        // fields in a 1xx, a 204, or a 2xx to CONNECT.
        if !gov.content_length.is_empty() {
            return Err(Misuse::InvalidContentLength);
        }
        if !gov.transfer_encoding.is_empty() {
            return Err(Misuse::InvalidTransferEncoding);
        }
    }
    gov.check_upgrade_option()?;
    if (status == StatusCode::SWITCHING_PROTOCOLS || status == StatusCode::UPGRADE_REQUIRED)
        && gov.upgrade.is_empty()
    {
        // RFC 9110 sections 15.2.2 and 15.5.22: both MUST name the protocols.
        return Err(Misuse::MissingUpgrade);
    }
    if status == StatusCode::SWITCHING_PROTOCOLS {
        if asked.upgrade.is_none() {
            return Err(Misuse::SwitchNotRequested);
        }
        if !offered(asked, gov) {
            return Err(Misuse::SwitchToUnofferedProtocol);
        }
        return Ok(Outgoing::Switch);
    }
    if informational && asked.http10 {
        // RFC 9110 section 15.2.
        return Err(Misuse::InformationalToHttp10);
    }
    if asked.switches(status) {
        return Ok(Outgoing::Switch);
    }
    if informational {
        return Ok(Outgoing::Informational);
    }
    let declared = gov.declared_to_send(asked.http10)?;
    // Our response is HTTP/1.1: it persists unless it says close (an
    // HTTP/1.0 request that did not ask to keep alive already closes).
    Ok(Outgoing::Final {
        declared,
        persists: !gov.connection.close,
    })
}

/// The framing a final response we send gets when its fields declare
/// none: its whole length when the caller gave the body at once (`full`),
/// else chunked to an HTTP/1.1 client on a connection that stays open,
/// else delimited by closing the connection.
pub(crate) fn chosen_framing(full: Option<u64>, asked: &Asked, closing: bool) -> Framing {
    match full {
        Some(n) => Framing::Length(n),
        None if asked.http10 || closing => Framing::CloseDelimited,
        None => Framing::Chunked,
    }
}

/// The name of the send-side error for a framing the caller declared.
fn misuse(e: ProtocolError) -> Misuse {
    match e {
        ProtocolError::InvalidContentLength => Misuse::InvalidContentLength,
        _ => Misuse::InvalidTransferEncoding,
    }
}

/// The protocol a request with these field lines proposes to switch to
/// (see [`Governing::upgrade_proposal`]).
pub(crate) fn requested_upgrade<'a>(
    lines: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    http10: bool,
) -> Option<&'a [u8]> {
    Governing::of(lines).upgrade_proposal(http10)
}

/// Whether a field may go in a trailer section: not one of framing,
/// routing or connection control, which must be known before the content
/// (RFC 9110 section 6.5.1): the fields that are always hop-by-hop, and
/// Content-Length, Host and Expect.
pub(crate) fn is_trailer_field(name: &[u8]) -> bool {
    !is_one_of(name, &HopByHop::ALWAYS) && !is_one_of(name, &["content-length", "host", "expect"])
}

/// Whether `name` is one of `names` (lowercase), compared without regard
/// to case.
fn is_one_of(name: &[u8], names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// The hop-by-hop fields of one message (RFC 9110 section 7.6.1): the
/// Connection field, every field it names, and the fields that only
/// make sense on one connection.
pub(crate) struct HopByHop<'a> {
    named: SmallVec<[&'a [u8]; 4]>,
}

impl<'a> HopByHop<'a> {
    /// The fields always removed.
    const ALWAYS: [&'static str; 7] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "transfer-encoding",
        "upgrade",
        "trailer",
    ];

    /// The hop-by-hop fields of the message with these field lines.
    pub(crate) fn of(lines: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Self {
        let mut named = SmallVec::new();
        for (name, value) in lines {
            if name.eq_ignore_ascii_case(b"connection") {
                named.extend(fields::list(value));
            }
        }
        HopByHop { named }
    }

    /// Whether a field of this name is hop-by-hop.
    pub(crate) fn is_hop_by_hop(&self, name: &[u8]) -> bool {
        is_one_of(name, &Self::ALWAYS) || self.named.iter().any(|n| name.eq_ignore_ascii_case(n))
    }
}

#[cfg(test)]
mod tests;
