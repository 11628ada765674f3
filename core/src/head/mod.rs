//! Message heads: finding them in the input ([`scan`]), reading them
//! ([`parse`]) into h1's wire-faithful heads ([`heads`], [`lines`]),
//! converting those to `http` types ([`convert`]), the grammar of the
//! request-target and Host ([`target`]) and of the fields that govern
//! framing ([`fields`]), and writing heads ([`encode`]).

pub(crate) mod convert;
pub(crate) mod encode;
pub(crate) mod fields;
pub(crate) mod heads;
pub(crate) mod lines;
pub(crate) mod parse;
pub(crate) mod scan;
pub(crate) mod target;

use http::{Request, Version};

/// The protocol an `http` request proposes to switch to (RFC 9110 section
/// 7.8): the first element of its Upgrade field, when the request is
/// HTTP/1.1 and its Connection field has the `upgrade` option; `None`
/// otherwise (an HTTP/1.0 request's Upgrade is ignored; CONNECT is not an
/// upgrade). The same rule as
/// [`RequestHead::requested_upgrade`](crate::RequestHead::requested_upgrade).
pub fn requested_upgrade<B>(req: &Request<B>) -> Option<&str> {
    let lines = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()));
    let token = crate::semantics::requested_upgrade(lines, req.version() == Version::HTTP_10)?;
    std::str::from_utf8(token).ok()
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
        assert_eq!(requested_upgrade(&req(v11, "upgrade", ",")), None);
        assert_eq!(
            requested_upgrade(&req(http::Version::HTTP_10, "upgrade", "websocket")),
            None
        );
    }
}
