//! The semantics decisions, each checked against its RFC section.

use super::*;

fn gov<'a>(lines: &[(&'a str, &'a str)]) -> Governing<'a> {
    Governing::of(lines.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

#[test]
fn response_framing_follows_rfc_9112_section_6_3() {
    use Framing::*;
    let get = Asked::default();
    let head = Asked {
        head: true,
        ..Asked::default()
    };
    let connect = Asked {
        connect: true,
        ..Asked::default()
    };
    let ok = StatusCode::OK;
    let reading = Reading::default();
    let final_ = |framing, persists| Ok(ResponseMeaning::Final { framing, persists });
    let cases: Vec<(
        &[(&str, &str)],
        StatusCode,
        &Asked,
        Result<ResponseMeaning, crate::Error>,
    )> = vec![
        // rule 1: HEAD, 1xx, 204, 304
        (&[("content-length", "5")], ok, &head, final_(Length(0), true)),
        (
            &[("content-length", "5")],
            StatusCode::NOT_MODIFIED,
            &get,
            final_(Length(0), true),
        ),
        (&[], StatusCode::NO_CONTENT, &get, final_(Length(0), true)),
        (
            &[],
            StatusCode::CONTINUE,
            &get,
            Ok(ResponseMeaning::Informational),
        ),
        // rule 2: 2xx to CONNECT
        (
            &[("content-length", "5")],
            ok,
            &connect,
            Ok(ResponseMeaning::Switch),
        ),
        (
            &[("content-length", "5")],
            StatusCode::FORBIDDEN,
            &connect,
            final_(Length(5), true),
        ),
        // rule 3: both fields
        (
            &[("transfer-encoding", "chunked"), ("content-length", "5")],
            ok,
            &get,
            Err(ProtocolError::ContentLengthAndTransferEncoding.into()),
        ),
        // rule 4: chunked final, or read until close
        (
            &[("transfer-encoding", "gzip, chunked")],
            ok,
            &get,
            final_(Chunked, true),
        ),
        (
            &[("transfer-encoding", "gzip")],
            ok,
            &get,
            final_(CloseDelimited, false),
        ),
        (
            &[("transfer-encoding", "chunked, gzip")],
            ok,
            &get,
            final_(CloseDelimited, false),
        ),
        (
            &[("transfer-encoding", "chunked;q=1")],
            ok,
            &get,
            Err(ProtocolError::InvalidTransferEncoding.into()),
        ),
        // rules 5 and 6
        (
            &[("content-length", "1x")],
            ok,
            &get,
            Err(ProtocolError::InvalidContentLength.into()),
        ),
        (&[("content-length", "7")], ok, &get, final_(Length(7), true)),
        // rule 8
        (&[], ok, &get, final_(CloseDelimited, false)),
        (
            &[("connection", "close"), ("content-length", "1")],
            ok,
            &get,
            final_(Length(1), false),
        ),
    ];
    for (lines, status, asked, want) in cases {
        assert_eq!(
            received_response(&gov(lines), status, false, asked, reading),
            want,
            "{lines:?} {status}"
        );
    }
}

#[test]
fn a_101_must_name_an_offered_protocol() {
    let asked = Asked {
        upgrade: Some(Bytes::from_static(b"websocket, h2c")),
        ..Asked::default()
    };
    let s = StatusCode::SWITCHING_PROTOCOLS;
    let r = Reading::default();
    assert_eq!(
        received_response(&gov(&[("upgrade", "WebSocket")]), s, false, &asked, r),
        Ok(ResponseMeaning::Switch)
    );
    for bad in [&[("upgrade", "foo")][..], &[]] {
        assert_eq!(
            received_response(&gov(bad), s, false, &asked, r),
            Err(ProtocolError::UnexpectedSwitch.into())
        );
    }
    assert!(matches!(
        outgoing_response(&gov(&[("upgrade", "foo"), ("connection", "upgrade")]), s, &asked),
        Err(Misuse::SwitchToUnofferedProtocol)
    ));
}

#[test]
fn hop_by_hop_fields() {
    let hop = HopByHop::of([(&b"Connection"[..], &b"close, X-Private"[..])]);
    for name in [
        "connection",
        "Keep-Alive",
        "TE",
        "transfer-encoding",
        "upgrade",
        "Trailer",
        "x-private",
    ] {
        assert!(hop.is_hop_by_hop(name.as_bytes()), "{name}");
    }
    for name in ["host", "content-length", "x-public", "via"] {
        assert!(!hop.is_hop_by_hop(name.as_bytes()), "{name}");
    }
}

#[test]
fn upgrade_needs_a_protocol_and_the_connection_option() {
    let up = |lines: &[(&'static str, &'static str)], http10| {
        requested_upgrade(lines.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())), http10)
    };
    assert_eq!(
        up(&[("Connection", "Upgrade"), ("Upgrade", "websocket")], false),
        Some(&b"websocket"[..])
    );
    assert_eq!(
        up(
            &[("connection", "keep-alive, UPGRADE"), ("upgrade", " , h2c , x")],
            false
        ),
        Some(&b"h2c"[..])
    );
    assert_eq!(up(&[("connection", "upgrade"), ("upgrade", ",")], false), None);
    assert_eq!(
        up(&[("connection", "keep-alive"), ("upgrade", "websocket")], false),
        None
    );
    assert_eq!(
        up(&[("connection", "upgrade"), ("upgrade", "websocket")], true),
        None
    ); // Only protocols: a quoted or otherwise invalid element names none.
    let bad = [("connection", "upgrade"), ("upgrade", "Up\""), ("upgrade", "")];
    assert_eq!(up(&bad, false), None);
    let mixed = [("connection", "upgrade"), ("upgrade", "a b, h2c")];
    assert_eq!(up(&mixed, false), Some(&b"h2c"[..]));
    let versioned = [("connection", "upgrade"), ("upgrade", "HTTP/2.0")];
    assert_eq!(up(&versioned, false), Some(&b"HTTP/2.0"[..]));
}
