//! Message heads: finding them in the input ([`scan`]), parsing them into
//! `http` types ([`parse`]), the fields that govern framing ([`fields`]),
//! and writing them ([`encode`]).

pub(crate) mod encode;
pub(crate) mod fields;
pub(crate) mod parse;
pub(crate) mod scan;

use http::{header, Request, Version};

/// The protocol a request asks to switch to (RFC 9110 section 7.8): the
/// first element of its `Upgrade` field, when the request is HTTP/1.1 and
/// its `Connection` field has the `upgrade` option. `None` otherwise; an
/// HTTP/1.0 request's `Upgrade` is ignored. (CONNECT is not an upgrade.)
pub fn requested_upgrade<B>(req: &Request<B>) -> Option<&str> {
    if req.version() != Version::HTTP_11 {
        return None;
    }
    let mut options = fields::ConnectionOptions::default();
    for value in req.headers().get_all(header::CONNECTION) {
        options.add(value.as_bytes());
    }
    if !options.upgrade {
        return None;
    }
    let first = fields::list(req.headers().get(header::UPGRADE)?.as_bytes()).next()?;
    std::str::from_utf8(first).ok()
}

#[cfg(test)]
mod tests {
    use super::requested_upgrade;
    use http::Request;

    #[test]
    fn requested_upgrade_needs_http11_and_the_connection_option() {
        let req = |version, connection: &str, upgrade: &str| {
            let mut b = Request::builder().version(version);
            if !connection.is_empty() {
                b = b.header("connection", connection);
            }
            if !upgrade.is_empty() {
                b = b.header("upgrade", upgrade);
            }
            b.body(()).expect("valid")
        };
        let v11 = http::Version::HTTP_11;
        assert_eq!(
            requested_upgrade(&req(v11, "Upgrade", "websocket")),
            Some("websocket")
        );
        assert_eq!(
            requested_upgrade(&req(v11, "keep-alive, UPGRADE", " h2c , foo")),
            Some("h2c")
        );
        assert_eq!(requested_upgrade(&req(v11, "keep-alive", "websocket")), None);
        assert_eq!(requested_upgrade(&req(v11, "upgrade", "")), None);
        assert_eq!(
            requested_upgrade(&req(http::Version::HTTP_10, "upgrade", "websocket")),
            None
        );
    }
}
